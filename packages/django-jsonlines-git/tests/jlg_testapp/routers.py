"""The router from the docs: reads of jlg_testapp go to the read alias, writes to the write alias."""


class JsonGitDbRouter:
    app = "jlg_testapp"
    read_alias = "json-git-read"
    write_alias = "json-git"

    def db_for_read(self, model, **hints):
        return self.read_alias if model._meta.app_label == self.app else None

    def db_for_write(self, model, **hints):
        return self.write_alias if model._meta.app_label == self.app else None

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == self.read_alias:
            return False  # the read engine never writes
        if db == self.write_alias:
            return app_label == self.app
        return app_label != self.app
