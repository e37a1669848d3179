# The local runtime as an image, for docker compose (localstack/docker-compose.yml) next to LocalStack
# and Redis. It serves the same function jars as template.yaml deploys. The image has no moto_server or
# redis-server: give it AWS endpoints (AWS_ENDPOINT_URL=http://localstack:4566, or none for real AWS).
#   docker build -t usage-tracker-local .
#   docker run -p 3000:3000 -e AWS_ENDPOINT_URL=http://host.docker.internal:4566 usage-tracker-local

# Built with JDK 25 at --release 21 as everywhere else (.mvn/jvm.config needs JDK >= 24).
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY shared/pom.xml shared/pom.xml
COPY functions/pom.xml functions/pom.xml
COPY local/pom.xml local/pom.xml
COPY client/pom.xml client/pom.xml
COPY forwarder/pom.xml forwarder/pom.xml
COPY bench/pom.xml bench/pom.xml
RUN ./mvnw -B -ntp -q dependency:go-offline -DexcludeReactor=true || true
COPY shared shared
COPY functions functions
COPY local local
# The reactor names every module; local's tests use the Java client and the forwarder.
COPY client client
COPY forwarder forwarder
COPY template.yaml openapi.yaml ./
RUN ./mvnw -B -ntp -q -pl local -am package -DskipTests

# The functions run on Lambda's java21; so does the runtime that hosts them here.
FROM eclipse-temurin:21-jre
WORKDIR /app
COPY --from=build /src/template.yaml /src/openapi.yaml ./
COPY --from=build /src/functions/target/dist functions/target/dist
COPY --from=build /src/local/target/classes local/target/classes
COPY --from=build /src/local/target/lib local/target/lib
RUN useradd --system --uid 10001 runtime && mkdir -p /app/.local && chown runtime /app/.local
USER runtime
# Webhook receivers: public https only, as on AWS (WEBHOOK_ALLOW_PRIVATE is for ./scripts/dev alone).
ENV HOST=0.0.0.0 PORT=3000 AWS_REGION=us-east-1 WEBHOOK_ALLOW_PRIVATE=false
EXPOSE 3000 3001
ENTRYPOINT ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Dproject.root=/app", \
            "-cp", "local/target/classes:local/target/lib/*", "dev.usagetracker.local.LocalRuntime"]
