#!/usr/bin/env bash
# LocalStack init hook: runs inside the LocalStack container once it is ready
# (mounted at /etc/localstack/init/ready.d by ../docker-compose.yml).
#
# Creates the same KMS keys, DynamoDB tables and SQS queues as template.yaml,
# with fixed names instead of CloudFormation-generated ones. Keep it in step
# with template.yaml: same key specs, key schemas, GSIs, projections, TTL,
# queue attributes and redrive policy.
#
# Left out on purpose (no behavioural effect locally, and they get in the way
# of resetting state): point-in-time recovery, table deletion protection,
# key policies, IAM roles, the DLQ alarm, log groups.
#
# Idempotent: safe to run again against a LocalStack that already has the
# resources.
set -euo pipefail
# Let failures inside $(...) (e.g. in ensure_key) abort the script too.
shopt -s inherit_errexit

STAGE="${USAGE_TRACKER_STAGE:-local}"
PREFIX="usage-tracker-${STAGE}"

log() { echo "[usage-tracker init] $*" >&2; }

# ensure_key ALIAS_NAME CREATE_KEY_ARGS... -> prints the key id
ensure_key() {
  local alias_name="$1"; shift
  local key_id
  if key_id=$(awslocal kms describe-key --key-id "alias/${alias_name}" \
      --query KeyMetadata.KeyId --output text 2>/dev/null); then
    log "key alias/${alias_name} exists (${key_id})"
  else
    key_id=$(awslocal kms create-key "$@" --query KeyMetadata.KeyId --output text)
    awslocal kms create-alias --alias-name "alias/${alias_name}" --target-key-id "${key_id}"
    log "created key alias/${alias_name} (${key_id})"
  fi
  echo "${key_id}"
}

# ------------------------------------------------------------------ KMS keys
STORAGE_KEY_ID=$(ensure_key "usage-tracker-storage-${STAGE}" \
  --description "usage-tracker ${STAGE} - SSE for DynamoDB tables and SQS queues" \
  --key-spec SYMMETRIC_DEFAULT --key-usage ENCRYPT_DECRYPT)
awslocal kms enable-key-rotation --key-id "${STORAGE_KEY_ID}"

DATA_KEY_ID=$(ensure_key "usage-tracker-data-${STAGE}" \
  --description "usage-tracker ${STAGE} - envelope encryption of api_key/email" \
  --key-spec SYMMETRIC_DEFAULT --key-usage ENCRYPT_DECRYPT)
awslocal kms enable-key-rotation --key-id "${DATA_KEY_ID}"

# HMAC and asymmetric keys: no automatic rotation (as in template.yaml).
MAC_KEY_ID=$(ensure_key "usage-tracker-mac-${STAGE}" \
  --description "usage-tracker ${STAGE} - HMAC for lookup hashes" \
  --key-spec HMAC_256 --key-usage GENERATE_VERIFY_MAC)

SIGNING_KEY_ID=$(ensure_key "usage-tracker-signing-${STAGE}" \
  --description "usage-tracker ${STAGE} - ES256 JWT signing" \
  --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY)

# ---------------------------------------------------------------- DynamoDB
table_exists() {
  awslocal dynamodb describe-table --table-name "$1" >/dev/null 2>&1
}

# create_table NAME CREATE_TABLE_ARGS... (billing mode and SSE added here)
create_table() {
  local name="$1"; shift
  awslocal dynamodb create-table --table-name "${name}" \
    --billing-mode PAY_PER_REQUEST \
    --sse-specification "Enabled=true,SSEType=KMS,KMSMasterKeyId=${STORAGE_KEY_ID}" \
    "$@" >/dev/null
  awslocal dynamodb wait table-exists --table-name "${name}"
  log "created table ${name}"
}

enable_ttl() {
  awslocal dynamodb update-time-to-live --table-name "$1" \
    --time-to-live-specification "Enabled=true,AttributeName=expires_at" >/dev/null
}

CLIENTS_TABLE="${PREFIX}-clients"
HITS_TABLE="${PREFIX}-hits"
USAGE_TABLE="${PREFIX}-usage"

# Clients + guard items; no GSI, no TTL.
if table_exists "${CLIENTS_TABLE}"; then
  log "table ${CLIENTS_TABLE} exists"
else
  create_table "${CLIENTS_TABLE}" \
    --attribute-definitions AttributeName=client_id,AttributeType=S \
    --key-schema AttributeName=client_id,KeyType=HASH
fi

if table_exists "${HITS_TABLE}"; then
  log "table ${HITS_TABLE} exists"
else
  create_table "${HITS_TABLE}" \
    --attribute-definitions \
      AttributeName=pk,AttributeType=S \
      AttributeName=sk,AttributeType=S \
    --key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE
  enable_ttl "${HITS_TABLE}"
fi

if table_exists "${USAGE_TABLE}"; then
  log "table ${USAGE_TABLE} exists"
else
  create_table "${USAGE_TABLE}" \
    --attribute-definitions \
      AttributeName=pk,AttributeType=S \
      AttributeName=hour_bucket,AttributeType=S \
      AttributeName=day_bucket,AttributeType=S \
      AttributeName=client_id,AttributeType=S \
    --key-schema AttributeName=pk,KeyType=HASH \
    --global-secondary-indexes '[
      {"IndexName": "by_hour",
       "KeySchema": [{"AttributeName": "hour_bucket", "KeyType": "HASH"},
                     {"AttributeName": "client_id", "KeyType": "RANGE"}],
       "Projection": {"ProjectionType": "KEYS_ONLY"}},
      {"IndexName": "by_day",
       "KeySchema": [{"AttributeName": "day_bucket", "KeyType": "HASH"},
                     {"AttributeName": "client_id", "KeyType": "RANGE"}],
       "Projection": {"ProjectionType": "KEYS_ONLY"}}
    ]'
  enable_ttl "${USAGE_TABLE}"
fi

# --------------------------------------------------------------------- SQS
# create-queue is idempotent when the attributes are unchanged.
DLQ_URL=$(awslocal sqs create-queue --queue-name "${PREFIX}-hits-dlq" \
  --attributes "{\"MessageRetentionPeriod\":\"1209600\",\"KmsMasterKeyId\":\"${STORAGE_KEY_ID}\"}" \
  --query QueueUrl --output text)
DLQ_ARN=$(awslocal sqs get-queue-attributes --queue-url "${DLQ_URL}" \
  --attribute-names QueueArn --query Attributes.QueueArn --output text)

REDRIVE="{\\\"deadLetterTargetArn\\\":\\\"${DLQ_ARN}\\\",\\\"maxReceiveCount\\\":\\\"5\\\"}"
HITS_QUEUE_URL=$(awslocal sqs create-queue --queue-name "${PREFIX}-hits" \
  --attributes "{\"VisibilityTimeout\":\"180\",\"MessageRetentionPeriod\":\"1209600\",\"KmsMasterKeyId\":\"${STORAGE_KEY_ID}\",\"KmsDataKeyReusePeriodSeconds\":\"300\",\"RedrivePolicy\":\"${REDRIVE}\"}" \
  --query QueueUrl --output text)
log "queues ready: ${HITS_QUEUE_URL} (DLQ ${DLQ_URL})"

# ------------------------------------------------------------------ summary
# Environment for running the functions/local runtime against this LocalStack
# (aliases are stable across restarts; key ids are not).
cat >&2 <<ENV
[usage-tracker init] done. Environment for the app:
CLIENTS_TABLE=${CLIENTS_TABLE}
HITS_TABLE=${HITS_TABLE}
USAGE_TABLE=${USAGE_TABLE}
HITS_QUEUE_URL=${HITS_QUEUE_URL}
DATA_KEY_ID=alias/usage-tracker-data-${STAGE}
MAC_KEY_ID=alias/usage-tracker-mac-${STAGE}
SIGNING_KEY_ID=alias/usage-tracker-signing-${STAGE}
ENV
