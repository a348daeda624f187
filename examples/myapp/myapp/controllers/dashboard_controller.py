"""The signed-in user's home."""
from proper import current

from ..models import Photo
from ..router import router
from .app_controller import AppController


@router.resource("dashboard", pk=None)
class DashboardController(AppController):
    """`GET /dashboard`: only for signed-in users."""

    def show(self):
        """The current user's photos."""
        self.user = current.user
        self.photos = list(
            Photo.select().where(Photo.owner == self.user).order_by(Photo.id.desc())
        )
