"""``manage.py dbshell`` runs cqlsh."""

from typing import Any

from django.db.backends.base.client import BaseDatabaseClient


class DatabaseClient(BaseDatabaseClient):
    executable_name = "cqlsh"

    @classmethod
    def settings_to_cmd_args_env(
        cls, settings_dict: dict[str, Any], parameters: list[str]
    ) -> tuple[list[str], dict[str, str] | None]:
        args = [cls.executable_name]
        env = None
        if settings_dict.get("USER"):
            args += ["-u", settings_dict["USER"]]
        if settings_dict.get("PASSWORD"):
            env = {"CQLSH_PASSWORD": settings_dict["PASSWORD"]}
        if settings_dict.get("NAME"):
            args += ["-k", settings_dict["NAME"]]
        host = str(settings_dict.get("HOST") or "127.0.0.1").split(",")[0]
        args.append(host)
        if settings_dict.get("PORT"):
            args.append(str(settings_dict["PORT"]))
        args.extend(parameters)
        return args, env
