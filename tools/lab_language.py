"""JupyterLab's menus and dialogs in the course's language: ``make lab LANG=es`` and Binder.

JupyterLab takes its interface language from one setting, ``locale`` of the plugin
``@jupyterlab/translation-extension:plugin`` (``"es_ES"`` with the pinned Spanish language pack,
``"en"`` for English). It has no command-line flag or URL parameter for it, so:

``make lab`` (``python -m tools.lab_language LANG -- jupyter-lab ARGS...``)
    puts ``tools/lab_config/<lang>`` first on ``JUPYTER_CONFIG_PATH`` for this one server.
    jupyterlab_server reads ``labconfig/default_setting_overrides.json`` from every Jupyter config
    directory, the first one winning, and uses it as the setting's *default*: nothing is written,
    and the student's own user settings (``~/.jupyter/lab/user-settings``) are left alone. A
    language the student picked in *Settings > Language* is a user setting, so it still wins over
    the course's default. It also opens ``notebooks/<lang>`` (``--LabApp.default_url``).
    Without make: ``JUPYTER_CONFIG_PATH=tools/lab_config/es jupyter lab``. One gap: the server
    translates the Settings Editor's own titles and descriptions from the *user* setting only
    (jupyterlab_server 2.28), so those stay English; menus, dialogs and the launcher are Spanish.
Binder (``binder/start`` enables this module as a Jupyter server extension)
    a Binder link only names a path to open (``urlpath``), so the links open ``course/es`` or
    ``course/en``: that route writes the language into the user settings of the Binder container
    (thrown away with it) and redirects to ``lab/tree/notebooks/<lang>``. ``course/es/<file>``
    opens that lesson.

``LANG`` is also the POSIX locale variable, and ``make lab`` reads ``COURSE_LANG``, which defaults
to ``LANG``: a value that starts with ``es`` (``es``, ``es_ES.UTF-8``, ``es_MX.UTF-8``) means
Spanish, anything else (``en``, ``C.UTF-8``, nothing) English. So a Spanish student's shell gets
Spanish with a plain ``make lab``, and ``make lab LANG=en`` (or ``COURSE_LANG=en``) switches.
``make lab LANG=es`` also hands ``LANG=es`` to the server; when that is not a locale this system
has, it is dropped from the server's (and the kernels') environment.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import locale
import os
import sys
from pathlib import Path

from tools.course import LANGUAGES, ROOT

#: ``JUPYTER_CONFIG_PATH`` directory per course language.
CONFIG_DIRS = {lang: ROOT / "tools" / "lab_config" / lang for lang in LANGUAGES}
PLUGIN = "@jupyterlab/translation-extension:plugin"
#: Where a language's lessons are, relative to the repository root (JupyterLab's root).
LESSONS = "notebooks/{lang}"
ROUTE = "course"


def course_language(value: str | None) -> str:
    """The course language that ``value`` (``make``'s ``COURSE_LANG``/``LANG``) asks for.

    Parameters
    ----------
    value : str or None
        ``"es"``, ``"en"``, a POSIX locale such as ``"es_ES.UTF-8"``, or nothing.

    Returns
    -------
    str
        ``"es"`` when ``value`` starts with ``es`` (any case), otherwise ``"en"``.

    Examples
    --------
    >>> [course_language(v) for v in ("es", "ES", "es_ES.UTF-8", "es-MX", " es ")]
    ['es', 'es', 'es', 'es', 'es']
    >>> [course_language(v) for v in ("en", "C.UTF-8", "en_US.UTF-8", "", None, "fr_FR.UTF-8")]
    ['en', 'en', 'en', 'en', 'en', 'en']
    """
    return "es" if (value or "").strip().lower().startswith("es") else "en"


def ui_locale(lang: str) -> str:
    """JupyterLab's ``locale`` setting for course language ``lang``, read from its config file.

    Parameters
    ----------
    lang : {"es", "en"}
        The course language.

    Returns
    -------
    str
        The value in ``tools/lab_config/<lang>/labconfig/default_setting_overrides.json``.

    Examples
    --------
    >>> ui_locale("es"), ui_locale("en")
    ('es_ES', 'en')
    """
    overrides = CONFIG_DIRS[lang] / "labconfig" / "default_setting_overrides.json"
    return json.loads(overrides.read_text(encoding="utf-8"))[PLUGIN]["locale"]


def _usable_locale(name: str) -> bool:
    """Whether this system has the POSIX locale ``name`` (``make lab LANG=es`` sets ``es``)."""
    current = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, name)
    except locale.Error:
        return False
    finally:
        locale.setlocale(locale.LC_CTYPE, current)
    return True


def lab_environment(lang: str, environ: dict[str, str]) -> dict[str, str]:
    """The environment for a JupyterLab server whose interface is in ``lang``.

    Parameters
    ----------
    lang : {"es", "en"}
        The course language.
    environ : dict
        The environment to start from (not modified).

    Returns
    -------
    dict
        ``environ`` with ``tools/lab_config/<lang>`` first on ``JUPYTER_CONFIG_PATH``, and without
        ``LANG`` when it names no locale this system has.

    Examples
    --------
    >>> env = lab_environment("es", {"JUPYTER_CONFIG_PATH": "/etc/mine", "LANG": "es"})
    >>> [Path(p).name for p in env["JUPYTER_CONFIG_PATH"].split(os.pathsep)]
    ['es', 'mine']
    >>> "LANG" in env
    False
    """
    env = dict(environ)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        [str(CONFIG_DIRS[lang])] + [p for p in [env.get("JUPYTER_CONFIG_PATH")] if p])
    if "LANG" in env and not _usable_locale(env["LANG"]):
        del env["LANG"]
    return env


def main(argv: list[str] | None = None) -> None:
    """``python -m tools.lab_language LANG -- COMMAND ARGS...``: run COMMAND in language LANG.

    COMMAND is ``jupyter-lab`` (``make lab``); ``--LabApp.default_url=/lab/tree/notebooks/<lang>``
    goes right after it, so that a ``--LabApp.default_url`` in ARGS still wins. The process
    becomes JupyterLab (``exec``): Ctrl-C and the exit status are JupyterLab's own.
    """
    parser = argparse.ArgumentParser(prog="python -m tools.lab_language", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lang", help="es..., en or anything else (English)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- jupyter-lab ARGS...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command: python -m tools.lab_language es -- jupyter-lab ...")
    lang = course_language(args.lang)
    folder = LESSONS.format(lang=lang)
    if lang == "es":
        print(f"JupyterLab en español, en {folder} (en inglés: make lab LANG=en)", file=sys.stderr)
        if importlib.util.find_spec("jupyterlab_language_pack_es_ES") is None:
            print("Falta el paquete de idioma: pip install -r requirements.txt -c constraints.txt"
                  " · missing the language pack", file=sys.stderr)
    else:
        print(f"JupyterLab in English, on {folder} (in Spanish: make lab LANG=es)", file=sys.stderr)
    argv_out = [command[0], f"--LabApp.default_url=/lab/tree/{folder}", *command[1:]]
    sys.stdout.flush()
    os.execvpe(command[0], argv_out, lab_environment(lang, dict(os.environ)))


# Binder: the course/es and course/en routes, as a Jupyter server extension (binder/start).


def set_user_locale(settings_dir: str | os.PathLike, lang: str) -> Path:
    """Write ``lang``'s interface language into the JupyterLab user settings in ``settings_dir``.

    Only for Binder, whose user settings live and die with its container; ``make lab`` never
    writes user settings. Other keys already in the file are kept.

    Parameters
    ----------
    settings_dir : path
        JupyterLab's user settings directory (``LabApp.user_settings_dir``).
    lang : {"es", "en"}
        The course language.

    Returns
    -------
    Path
        The settings file written.
    """
    import json5  # jupyterlab_server's dependency: user settings files may hold comments

    package, plugin = PLUGIN.split(":")
    path = Path(settings_dir, package, f"{plugin}.jupyterlab-settings")
    current = json5.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current["locale"] = ui_locale(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return path


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """This module is a Jupyter server extension (enabled by ``binder/jupyter_config``)."""
    return [{"module": "tools.lab_language"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Add ``<base_url>course/(es|en)[/<path>]``: set the interface language, open the lessons."""
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.utils import url_path_join
    from tornado import web

    def settings_dir() -> str:
        for app in serverapp.extension_manager.extension_apps.get("jupyterlab", ()):
            return app.user_settings_dir
        from jupyterlab.commands import get_user_settings_dir

        return get_user_settings_dir()

    class CourseLanguageHandler(JupyterHandler):
        @web.authenticated
        def get(self, lang: str, path: str) -> None:
            set_user_locale(settings_dir(), lang)
            target = url_path_join(self.base_url, "lab", "tree", LESSONS.format(lang=lang),
                                   *[path] if path else [])
            query = self.request.query  # Binder's ?token=..., for JupyterLab's page
            self.redirect(f"{target}?{query}" if query else target)

    route = url_path_join(serverapp.web_app.settings["base_url"], ROUTE, r"(es|en)(?:/(.*))?")
    serverapp.web_app.add_handlers(".*$", [(route, CourseLanguageHandler)])
    serverapp.log.info("Course language routes: %s", route)


if __name__ == "__main__":
    main()
