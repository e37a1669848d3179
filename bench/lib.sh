# Shared by the bench/ commands: the toolchain and local services (scripts/lib/common.sh), and a build
# of the function jars and the bench classes when they are missing or older than the sources.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"

ensure_services

bench_build() {
  local newest
  newest=$(find pom.xml shared client functions local forwarder bench template.yaml -newer bench/target/classes/dev/usagetracker/bench/ColdStartBench.class \
    \( -name '*.java' -o -name 'pom.xml' -o -name 'template.yaml' -o -name '*.json' \) -not -path '*/target/*' 2>/dev/null | head -1 || true)
  if [ ! -f bench/target/classes/dev/usagetracker/bench/ColdStartBench.class ] || [ ! -d bench/target/lib ] \
     || [ ! -f functions/target/dist/ingest.jar ] || [ ! -f forwarder/target/forwarder.jar ] || [ -n "$newest" ]; then
    step "building (./mvnw package -DskipTests)"
    # package, not install: the reactor resolves its own modules, nothing is written to ~/.m2
    maven -q package -DskipTests
  fi
}

bench_run() {  # $1 = main class (simple name), rest = its arguments
  local main="$1"; shift
  exec java -XX:+UseSerialGC -Dproject.root="$ROOT" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel="${LOG_LEVEL:-warn}" \
    -Dorg.slf4j.simpleLogger.log.org.apache.pekko=warn -Dorg.slf4j.simpleLogger.log.org.elasticmq=warn \
    -cp "bench/target/classes:bench/target/lib/*" "dev.usagetracker.bench.$main" "$@"
}
