"""JSON API for photos."""
from proper import current

from ...forms import PhotoForm
from ...models import Photo
from ...router import api_router
from ...tasks import generate_thumbnail
from ..app_controller import AppController


@api_router.resource("photos")
class PhotoController(AppController):
    """`GET /api/photos`, `GET /api/photos/:photo_id` and `POST /api/photos`
    (JSON body, signed-in users). Errors are JSON too."""

    skip_authentication = ("index", "show")
    before = [{"do": "load_photo", "only": ["show"]}]

    def index(self):
        """Every photo, oldest first."""
        photos = Photo.select().order_by(Photo.id)
        return self.render(json={"photos": [photo.to_dict() for photo in photos]})

    def show(self):
        """One photo."""
        return self.render(json=self.photo.to_dict())

    def create(self):
        """Create a photo from `{"title": ..., "caption": ...}`: 201 or 422."""
        form = PhotoForm(self.params)
        if form.is_invalid:
            return self.render(json={"errors": form.get_errors()}, status=422)
        photo = form.save(owner=current.user)
        generate_thumbnail(photo.id)
        photo = Photo.get_by_id(photo.id)
        self.response.set_location(self.app.url_for("Api:Photo.show", photo))
        return self.render(json=photo.to_dict(), status=201)

    # Private

    def load_photo(self):
        photo_id = self.params.get("photo_id", type=int)
        self.photo = Photo.get_or_none(Photo.id == photo_id) if photo_id else None
        if self.photo is None:
            self.response.body = self.render(json={"error": "not found"}, status=404)

    def _request_authentication(self):
        """API clients get a 401 instead of a redirect to the sign-in page."""
        self.response.body = self.render(
            json={"error": "authentication required"}, status=401
        )
