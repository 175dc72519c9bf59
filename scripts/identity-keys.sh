# Sourced by run.sh: the keys of the internal identity each service starts with. Needs openssl.
# STITCHFIN_IDENTITY_SIGNING_KEY is the root; no service receives it. A key given in the environment as
# STITCHFIN_IDENTITY_KEY_{CALLER}_{CALLEE} (the names deploy/.env.example uses) wins over the derived one.

# The services that call a sibling directly, as caller:callee; every other call comes from the edge.
SIBLING_CALLS=(voice:conversation conversation:providers)

# The key of calls from $1 to $2: the one given in the environment, else derived from the root
# STITCHFIN_IDENTITY_SIGNING_KEY as the services' own InternalIdentityKeys.Derive does (HMAC-SHA256, lowercase hex).
identity_key() {
  local given="STITCHFIN_IDENTITY_KEY_${1^^}_${2^^}"
  if [ -n "${!given:-}" ]; then printf '%s\n' "${!given}"; return; fi
  printf '%s' "stitchfin-identity:$1>$2" | openssl dgst -sha256 -hmac "$STITCHFIN_IDENTITY_SIGNING_KEY" -r | cut -d' ' -f1
}

# Each service gets only the keys of the calls it signs or accepts, never the root: so only the edge can sign a
# tenant or admin identity, and a sibling can sign only as itself, only to the sibling it calls.
identity_keys_env() {
  local s=$1 c call
  local -a pairs=()
  if [ "$s" = gateway ]; then
    for c in tenancy conversation providers voice metering; do pairs+=("gateway:$c"); done
  else
    pairs+=("gateway:$s")
    for call in "${SIBLING_CALLS[@]}"; do
      if [ "${call%%:*}" = "$s" ] || [ "${call##*:}" = "$s" ]; then pairs+=("$call"); fi
    done
  fi
  for call in "${pairs[@]}"; do
    printf 'Identity__Keys__%s__%s=%s\n' "${call%%:*}" "${call##*:}" "$(identity_key "${call%%:*}" "${call##*:}")"
  done
}
