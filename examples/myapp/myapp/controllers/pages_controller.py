"""Public pages."""
from proper.units import MINUTES

from ..models import Photo
from ..router import router
from .app_controller import AppController


STATS_CACHE_KEY = "stats:photo-count"


class PagesController(AppController):
    """The home page and a (cached) statistics page."""

    skip_authentication = True

    @router.get("/")
    def index(self):
        """Home: the latest photos."""
        self.photos = list(
            Photo.select().order_by(Photo.created_at.desc(), Photo.id.desc()).limit(6)
        )

    @router.get("stats")
    def stats(self):
        """The number of photos, kept for 5 minutes in `app.cache`."""
        self.photo_count = self.app.cache.get_or_set(
            STATS_CACHE_KEY,
            lambda: Photo.select().count(),
            expires_in=5 * MINUTES,
        )
