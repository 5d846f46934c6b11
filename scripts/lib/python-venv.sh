# Sourced from the repository root: a virtualenv with python-amazon-sp-api, the independent SP-API
# client the emulator is tested with and the orders benchmark compares with, amzn-sp-api,
# Amazon's own SDK, and boto3, the independent SQS client its queues are tested with; made
# once, then reused (remade when one is missing). Exports SELLSYNC_PYTHON.
venv="target/python-venv"
if ! "$venv/bin/python" -c "import sp_api, spapi, boto3" >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r emulator/tests/python/requirements.txt
fi
export SELLSYNC_PYTHON="$PWD/$venv/bin/python"
