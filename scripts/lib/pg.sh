# Sourced from the repository root: a private PostgreSQL 15 cluster for the tests that use the
# shared store (started with scripts/pg-cluster, stopped when the calling script exits), its URL
# in SELLSYNC_TEST_PG. A cluster already named by SELLSYNC_TEST_PG is used as it is.
if [ -z "${SELLSYNC_TEST_PG:-}" ]; then
  SELLSYNC_PG_DIR="$(mktemp -d /tmp/sellsync-pg.XXXXXX)"
  trap 'scripts/pg-cluster stop "$SELLSYNC_PG_DIR" >/dev/null 2>&1 || true' EXIT
  SELLSYNC_TEST_PG="$(scripts/pg-cluster start "$SELLSYNC_PG_DIR")"
  export SELLSYNC_TEST_PG
fi
