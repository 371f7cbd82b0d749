set -u -o pipefail
umask 077

# The CLONE_SYNC_* overrides are documented in the package (doc.go).

log() {
	printf 'clone-sync[%s]: %s\n' "$CS_NAME" "$*" >&2
}

plain_path_re='^(/[A-Za-z0-9_.-]+)+$'
run_dir=${CLONE_SYNC_RUN_DIR:-/run/clone-sync/$CS_NAME}
if [[ ! $run_dir =~ $plain_path_re ]]; then
	log "error: run directory '$run_dir' must be an absolute path of letters, digits, '_', '.' and '-'"
	exit 2
fi
state_dir=${CS_STATUS_FILE%/*}
dry=${CLONE_SYNC_DRY_ARGV:-}
key_file=$run_dir/key
paths_file=${CLONE_SYNC_PATHS_FILE:-$run_dir/paths.json}
fields_file=$run_dir/paths.fields
want_fp_file=$run_dir/paths.fingerprint
parse_err_file=$run_dir/paths.err
stats_file=$run_dir/rsync.stats

mkdir -p -- "$run_dir" || exit 2
if [ -z "$dry" ]; then
	mkdir -p -- "$state_dir" || exit 2
	exec 9>"$run_dir/lock"
	if command -v flock >/dev/null 2>&1; then
		flock 9
	fi
fi

imds() {
	local base=${CLONE_SYNC_IMDS_ENDPOINT:-http://169.254.169.254} token
	token=$(curl -fsS -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$base/latest/api/token") || return 1
	curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" "$base/latest/meta-data/$1"
}

region=
aws_cli() {
	if [ -z "$region" ]; then
		region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
		if [ -z "$region" ]; then
			region=$(imds placement/region) || { log "error: cannot read the region from instance metadata"; return 1; }
		fi
	fi
	aws --region "$region" "$@"
}

# get_parameter NAME prints the (decrypted) value of SSM parameter NAME.
get_parameter() {
	aws_cli ssm get-parameter --name "$1" --with-decryption --query Parameter.Value --output text
}

lifecycle=skipped
warnings=
warn() {
	log "warning: $1"
	warnings+="$1"$'\n'
}

write_status() {
	if ! command -v python3 >/dev/null 2>&1; then
		printf '{"policy": "%s", "exit_code": %d, "lifecycle_hook": "%s", "reason": "%s"}\n' "$CS_NAME" "$1" "$lifecycle" "$3" >"$CS_STATUS_FILE"
		return
	fi
	python3 - "$CS_STATUS_FILE" "$CS_NAME" "$1" "$2" "$lifecycle" "$3" "$warnings" <<'PY'
import datetime, json, os, sys

path, name, code, nbytes, lifecycle, reason, warnings = sys.argv[1:8]
code, nbytes = int(code), int(nbytes)
now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
try:
    with open(path) as f:
        last_success = json.load(f).get('last_success')
except Exception:
    last_success = None
if code == 0:
    last_success = now
status = {
    'policy': name,
    'last_run': now,
    'last_success': last_success,
    'exit_code': code,
    'bytes_transferred': nbytes,
    'lifecycle_hook': lifecycle,
    'reason': reason or None,
    'warnings': [w for w in warnings.split('\n') if w],
}
tmp = '%s.tmp.%d' % (path, os.getpid())
with open(tmp, 'w') as f:
    json.dump(status, f, indent=2)
    f.write('\n')
os.chmod(tmp, 0o644)
os.replace(tmp, path)
PY
}

# report_first_sync REASON tags this instance clone:first-sync=REASON (at
# most 256 characters), so that an apply waiting for the clone can say why
# it never came into service. Best effort: it needs ec2:CreateTags on the
# instance itself.
report_first_sync() {
	local id tags
	id=$(imds instance-id 2>/dev/null) &&
		tags=$(python3 -c 'import json, sys; print(json.dumps([{"Key": "clone:first-sync", "Value": sys.argv[1][:256]}]))' "$1") &&
		aws_cli ec2 create-tags --resources "$id" --tags "$tags" >/dev/null 2>&1 ||
		log "warning: cannot tag this instance with why its first sync failed (ec2:CreateTags)"
}

# finish CODE BYTES [REASON] ends the run; REASON explains a failure in the
# status file, and, while the first-sync lifecycle hook holds the clone, in
# its clone:first-sync tag.
finish() {
	rm -f -- "$key_file" "$key_file.pub" "$fields_file" "$want_fp_file" "$parse_err_file" "$stats_file"
	if [ -n "${3:-}" ]; then
		log "error: $3"
	fi
	if [ -z "$dry" ]; then
		write_status "$1" "$2" "${3:-}" || log "error: cannot write the status file $CS_STATUS_FILE"
		if [ "$1" -ne 0 ] && [ -n "$CS_LIFECYCLE_HOOK_NAME" ] && [ ! -e "$run_dir/lifecycle-completed" ]; then
			report_first_sync "${3:-the sync agent exited with $1}"
		fi
	fi
	exit "$1"
}

tools=(python3)
[ -n "$dry" ] || tools+=(rsync ssh)
[ -n "$dry" ] && [ -z "${CLONE_SYNC_KEY_FILE:-}" ] || tools+=(ssh-keygen)
if [ -z "${CLONE_SYNC_PATHS_FILE:-}" ] || [ -z "${CLONE_SYNC_KEY_FILE:-}" ] || { [ -z "$dry" ] && [ -n "$CS_LIFECYCLE_HOOK_NAME" ]; }; then
	tools+=(aws curl)
fi
missing=()
for tool in "${tools[@]}"; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
	finish 2 0 "missing tools on this image: ${missing[*]}"
fi

master=$CS_MASTER_ADDRESS
if [ -z "$master" ] && [ -r "$CS_MASTER_ENV_FILE" ]; then
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line#export }
		case $line in
		MASTER_ADDRESS=*)
			master=${line#MASTER_ADDRESS=}
			master=${master#[\"\']}
			master=${master%[\"\']}
			;;
		esac
	done <"$CS_MASTER_ENV_FILE"
fi
if [[ ! $master =~ ^[A-Za-z0-9][A-Za-z0-9.:-]*$ ]]; then
	finish 2 0 "no valid master address (set in the policy or as MASTER_ADDRESS in $CS_MASTER_ENV_FILE)"
fi
case $master in
*:*) master="[$master]" ;;
esac

if [ -z "${CLONE_SYNC_PATHS_FILE:-}" ]; then
	if ! get_parameter "$CS_PATHS_PARAMETER" >"$paths_file"; then
		finish 2 0 "cannot read the path list from SSM parameter $CS_PATHS_PARAMETER"
	fi
fi

# The path list becomes NUL-terminated fields, per path: the source relative
# to the master's rrsync root (glob characters bracketed, as rrsync expands
# globs), the destination, the delete flag, the number of excludes and the
# excludes. The fingerprint of the key issued for that root goes to its own
# file.
if ! python3 - "$paths_file" "$want_fp_file" >"$fields_file" 2>"$parse_err_file" <<'PY'; then
import json, re, sys, unicodedata

def fail(msg):
    sys.stderr.write('invalid path list: %s\n' % msg)
    sys.exit(1)

def elems(what, p):
    if not isinstance(p, str) or not p.startswith('/'):
        fail('%s %r must be an absolute path' % (what, p))
    for c in p:
        if unicodedata.category(c) == 'Cc' or (c.isspace() and c != ' '):
            fail('%s %r contains a control character or whitespace other than a space' % (what, p))
    parts = p.split('/')
    if '..' in parts:
        fail('%s %r contains ..' % (what, p))
    parts = [e for e in parts if e not in ('', '.')]
    if not parts:
        fail('%s %r is the root directory' % (what, p))
    return parts

try:
    with open(sys.argv[1], 'rb') as f:
        doc = json.loads(f.read().decode('utf-8'))
except Exception as e:
    fail(str(e))
if isinstance(doc, dict) and doc.get('version') == 1:
    fail('version 1 carries no key fingerprint (written by an older provider); apply the clone_sync_policy to rewrite it')
if not isinstance(doc, dict) or doc.get('version') != 2 or not isinstance(doc.get('paths'), list):
    fail('expected {"version": 2, "root": ..., "key_fingerprint": ..., "paths": [...]}')
fingerprint = doc.get('key_fingerprint')
if not isinstance(fingerprint, str) or not re.fullmatch(r'SHA256:[A-Za-z0-9+/]{43}', fingerprint):
    fail('key_fingerprint %r is not a SHA256 fingerprint' % (fingerprint,))
root = elems('root', doc.get('root'))
out = []
for p in doc['paths']:
    if not isinstance(p, dict):
        fail('every path must be an object')
    src = elems('source', p.get('source'))
    dst = elems('destination', p.get('destination'))
    if src[:len(root)] != root:
        fail('source %r is outside the root %r the master allows' % (p.get('source'), doc['root']))
    rel = '/'.join(src[len(root):])
    rel = ''.join('[%s]' % c if c in '*?[' else c for c in rel)
    excludes = p.get('exclude') or []
    if not isinstance(excludes, list):
        fail('exclude of %r must be a list' % p.get('source'))
    for e in excludes:
        if not isinstance(e, str) or e == '' or any(c in e for c in '\0\n\r'):
            fail('invalid exclude %r' % (e,))
    delete = p.get('delete', False)
    if not isinstance(delete, bool):
        fail('delete of %r must be true or false' % p.get('source'))
    out += ['./' + rel + '/' if rel else './', '/' + '/'.join(dst) + '/', '1' if delete else '0', str(len(excludes))] + excludes
with open(sys.argv[2], 'w') as f:
    f.write(fingerprint)
sys.stdout.buffer.write(b''.join(s.encode('utf-8') + b'\0' for s in out))
PY
	reason=$(tail -n 1 -- "$parse_err_file" 2>/dev/null)
	finish 3 0 "${reason:-invalid path list}"
fi
want_fp=$(cat -- "$want_fp_file") || finish 3 0 "invalid path list: no key fingerprint"

# The path list and the key are read at different moments, so a run during
# a key rotation can hold one of each. The path list names the key it was
# written for; any other key may be confined to another root, so refuse it.
if [ -z "$dry" ] || [ -n "${CLONE_SYNC_KEY_FILE:-}" ]; then
	if [ -n "${CLONE_SYNC_KEY_FILE:-}" ]; then
		cat -- "$CLONE_SYNC_KEY_FILE" >"$key_file" || finish 2 0 "cannot read the private key from $CLONE_SYNC_KEY_FILE"
	elif ! get_parameter "$CS_KEY_PARAMETER" >"$key_file"; then
		finish 2 0 "cannot read the private key from SSM parameter $CS_KEY_PARAMETER"
	fi
	if ! ssh-keygen -y -P '' -f "$key_file" >"$key_file.pub" ||
		! key_fp=$(ssh-keygen -l -E sha256 -f "$key_file.pub"); then
		finish 2 0 "the private key is not a valid unencrypted ssh key"
	fi
	key_fp=${key_fp#* }
	key_fp=${key_fp%% *}
	if [ "$key_fp" != "$want_fp" ]; then
		finish 75 0 "key and path list are from different rotations; retrying next run (path list wants $want_fp, key is $key_fp)"
	fi
fi

ssh_cmd="ssh -i $key_file -p $CS_SSH_PORT -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=$state_dir/$CS_NAME.known_hosts -o ConnectTimeout=30 -o ServerAliveInterval=30"

rc=0
total=0
reason=
while IFS= read -r -d '' remote; do
	IFS= read -r -d '' dest
	IFS= read -r -d '' delete
	IFS= read -r -d '' count
	argv=(rsync -a --numeric-ids --partial --timeout=600 --stats -e "$ssh_cmd")
	if [ "$CS_BWLIMIT_BYTES" -gt 0 ]; then
		argv+=("--bwlimit=${CS_BWLIMIT_BYTES}b")
	fi
	if [ "$delete" = 1 ]; then
		argv+=(--delete)
	fi
	while [ "$count" -gt 0 ]; do
		IFS= read -r -d '' exclude
		argv+=("--filter=- $exclude")
		count=$((count - 1))
	done
	argv+=(-- "$CS_SSH_USER@$master:$remote" "$dest")

	if [ -n "$dry" ]; then
		printf '%s\0' "${argv[@]}" ""
		continue
	fi
	log "syncing $remote from $master into $dest"
	mkdir -p -- "$dest"
	"${argv[@]}" >"$stats_file"
	code=$?
	cat -- "$stats_file"
	received=$(sed -n 's/^Total bytes received: //p' "$stats_file" | tr -cd '0-9')
	total=$((total + ${received:-0}))
	if [ "$code" -eq 24 ]; then
		warn "rsync of $remote: some files vanished before they could be transferred (exit 24)"
		code=0
	fi
	if [ "$code" -ne 0 ]; then
		log "error: rsync of $remote exited with $code"
		if [ "$rc" -eq 0 ]; then
			rc=$code
			reason="rsync of $remote into $dest exited with $code"
		fi
	fi
done <"$fields_file"

if [ -n "$dry" ]; then
	finish 0 0
fi

if [ "$rc" -eq 0 ] && [ -n "$CS_LIFECYCLE_HOOK_NAME" ]; then
	if [ -e "$run_dir/lifecycle-completed" ]; then
		lifecycle=completed
	else
		lifecycle=failed
		if instance_id=$(imds instance-id) &&
			aws_cli autoscaling complete-lifecycle-action \
				--lifecycle-hook-name "$CS_LIFECYCLE_HOOK_NAME" \
				--auto-scaling-group-name "$CS_AUTOSCALING_GROUP_NAME" \
				--lifecycle-action-result CONTINUE \
				--instance-id "$instance_id"; then
			: >"$run_dir/lifecycle-completed"
			lifecycle=completed
			log "completed lifecycle hook $CS_LIFECYCLE_HOOK_NAME of $CS_AUTOSCALING_GROUP_NAME"
		else
			log "error: cannot complete lifecycle hook $CS_LIFECYCLE_HOOK_NAME; retrying on the next run"
		fi
	fi
fi

finish "$rc" "$total" "$reason"
