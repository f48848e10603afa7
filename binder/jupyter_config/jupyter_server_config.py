# Binder only (binder/start puts this folder on JUPYTER_CONFIG_PATH): the routes course/es and
# course/en that the README's Binder links open, which set JupyterLab's interface language and open
# that language's lessons (tools/lab_language.py). The repository goes on the server's sys.path
# only, not on the kernels'.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
c.ServerApp.jpserver_extensions.update({"tools.lab_language": True})  # noqa: F821
