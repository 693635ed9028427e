#!/usr/bin/env bash
# Run ceph/s3-tests against a CloudEmu binary and print pass counts (overall, in issue 4's
# scope, by feature). Not part of CI: the suite is not vendored.
#
#   tests/s3-conformance/run.sh /path/to/s3-tests-checkout [path/to/cloudemu] [extra pytest args]
#
# The venv lives in ${S3TESTS_VENV:-/tmp/s3tests-venv}; the report in ${OUT:-/tmp/s3tests-report}.
set -euo pipefail
SUITE=$(cd "$1" && pwd); shift
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-$HERE/../../target/release/cloudemu}; [ $# -gt 0 ] && shift
VENV=${S3TESTS_VENV:-/tmp/s3tests-venv}
OUT=${OUT:-/tmp/s3tests-report}
PORT=${PORT:-4599}
mkdir -p "$OUT"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$SUITE/requirements.txt"
fi

# Users as CloudEmu sees them: a 12-digit access key acts in that account; user_id is the
# account's canonical id (sha256 of "cloudemu-canonical-user:<account>").
canon() { printf 'cloudemu-canonical-user:%s' "$1" | sha256sum | cut -c1-64; }
cat > "$OUT/s3tests.conf" <<CONF
[DEFAULT]
host = localhost
port = $PORT
is_secure = False
ssl_verify = False
[fixtures]
bucket prefix = s3t-{random}-
iam name prefix = s3-tests-
iam path prefix = /s3-tests/
[s3 main]
display_name = test
user_id = $(canon 000000000000)
email = test@example.com
# a LocationConstraint us-east-1 accepts (AWS refuses "us-east-1" itself there)
api_name = eu-west-1
access_key = test
secret_key = test
[s3 alt]
display_name = alt
email = alt@example.com
user_id = $(canon 111122223333)
access_key = 111122223333
secret_key = test
[s3 tenant]
display_name = tenant
user_id = $(canon 222233334444)
access_key = 222233334444
secret_key = test
email = tenant@example.com
tenant = testx
[iam]
email = s3@example.com
user_id = 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
access_key = test
secret_key = test
display_name = iam
[iam root]
access_key = test
secret_key = test
user_id = RGW11111111111111111
email = root@example.com
[iam alt root]
access_key = 111122223333
secret_key = test
user_id = RGW22222222222222222
email = altroot@example.com
CONF

DATA=$(mktemp -d)
"$BIN" --port "$PORT" --data-dir "$DATA" --log-level warn > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -sf "localhost:$PORT/_cloudemu/health" >/dev/null && break; sleep 0.1; done

# The selection third-party servers report against: no fails_on_aws tests, and none of the
# groups no AWS endpoint serves or CloudEmu does not emulate.
SELECT='not fails_on_aws and not appendobject and not bucket_logging and not bucket_logging_cleanup
 and not fails_without_logging_rollover and not cloud_transition and not cloud_restore
 and not lifecycle_expiration and not lifecycle_transition and not s3select and not s3website
 and not s3website_routing_rules and not s3website_redirect_location and not sns and not test_of_sts
 and not webidentity_test and not iam_account and not iam_cross_account and not iam_role
 and not iam_tenant and not iam_user and not user_policy and not role_policy and not session_policy
 and not group and not group_policy and not abac_test and not token_claims_trust_policy_test
 and not token_principal_tag_role_policy_test and not token_request_tag_trust_policy_test
 and not token_resource_tags_test and not token_role_tags_test and not token_tag_keys_test'
(cd "$SUITE" && S3TEST_CONF="$OUT/s3tests.conf" "$VENV/bin/python" -m pytest -q -rA \
  -p no:cacheprovider --junitxml="$OUT/report.xml" -m "$(echo $SELECT)" \
  s3tests/functional/test_s3.py s3tests/functional/test_headers.py "$@" > "$OUT/pytest.txt" 2>&1) || true
tail -1 "$OUT/pytest.txt"
python3 "$HERE/summarize.py" "$OUT/report.xml"
