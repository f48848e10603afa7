# Binder only (binder/start puts this folder on JUPYTER_CONFIG_PATH): the routes course/es and
# course/en that the README's Binder links open, which set JupyterLab's interface language and open
# that language's lessons (tools/lab_language.py). binder/postBuild installs the project, tools
# included (pyproject.toml), so the server imports it like any package.
c.ServerApp.jpserver_extensions.update({"tools.lab_language": True})  # noqa: F821
