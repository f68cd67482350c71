# Sourced by the scripts that need PyTorch (scripts/test-pytorch.sh, benchmarks/train-vs-pytorch.sh), from
# the repository root: sets $python to an interpreter that imports torch and numpy. A PyTorch that
# training/.venv or python3 already imports is used as it is; otherwise training/.venv is made and torch and
# numpy are installed into it from PyPI (or wheels pip finds through PIP_FIND_LINKS).
venv=training/.venv
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import torch, numpy" 2>/dev/null; then
  python="$venv/bin/python"
elif python3 -c "import torch, numpy" 2>/dev/null; then
  python=python3  # a PyTorch the machine already has is used as it is, never downloaded again
else
  if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
      sudo_cmd=(); if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
      echo "installing python3-venv"
      "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    fi
    python3 -m venv "$venv"
  fi
  echo "installing torch and numpy into $venv"
  "$venv/bin/pip" install -q torch numpy
  python="$venv/bin/python"
fi
