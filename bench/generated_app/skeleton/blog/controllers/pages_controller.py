from blog.router import router
from .app_controller import AppController


class PagesController(AppController):
    skip_authentication = True

    @router.get("/")
    def index(self):
        pass
