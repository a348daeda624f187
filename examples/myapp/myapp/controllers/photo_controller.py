"""Photos: a full resource, with an optional image upload."""
import peewee as pw
from proper import current
from proper.errors import Forbidden, NotFound

from .. import uploads
from ..forms import PhotoForm
from ..models import Attachment, Photo, User
from ..router import router
from ..tasks import generate_thumbnail
from .app_controller import AppController


ERROR_NOT_AN_IMAGE = "Only image files can be uploaded"


@router.resource("photos")
class PhotoController(AppController):
    """`/photos` routes. Anyone can browse; signed-in users post photos and
    only the owner can edit or delete them."""

    skip_authentication = ("index", "show")
    before = [
        {"do": "load_photo", "exclude": ["index", "new", "create"]},
        {"do": "require_owner", "only": ["edit", "update", "delete"]},
        {"do": "set_form", "exclude": ["index", "show", "delete"]},
        {"do": "validate_form", "only": ["create", "update"]},
        {"do": "validate_upload", "only": ["create", "update"]},
    ]
    after = [{"do": "close_uploads"}]

    def index(self):
        """All photos, newest first, with their owners and covers (one
        query); `?q=` filters by title."""
        self.q = (self.params.get("q") or "").strip()
        query = (
            Photo.select(Photo, User, Attachment)
            .join(User)
            .switch(Photo)
            .join(Attachment, pw.JOIN.LEFT_OUTER)
            .order_by(Photo.created_at.desc(), Photo.id.desc())
        )
        if self.q:
            query = query.where(Photo.title.contains(self.q))
        self.photos = list(query)

    def show(self):
        """One photo."""

    def new(self):
        """The upload form."""

    def create(self):
        """Save the photo and its image, then queue the thumbnail."""
        photo = self.form.save(owner=current.user)
        if self.upload:
            photo.attach_image(self.upload, self.app.config.UPLOADS_DIR)
        generate_thumbnail(photo.id)
        self.response.redirect_to("Photo.show", photo, flash="Photo was created")

    def edit(self):
        """The edit form."""

    def update(self):
        """Save changes; a new image replaces the old one."""
        photo = self.form.save()
        if self.upload:
            photo.attach_image(self.upload, self.app.config.UPLOADS_DIR)
            generate_thumbnail(photo.id)
        self.response.redirect_to("Photo.show", photo, flash="Photo was updated")

    def delete(self):
        """Delete the photo and its stored files."""
        self.photo.remove_image(self.app.config.UPLOADS_DIR)
        self.photo.delete_instance()
        self.response.redirect_to("Photo.index", flash="Photo was deleted")

    # Private

    def load_photo(self):
        photo_id = self.params.get("photo_id", type=int)
        self.photo = Photo.get_or_none(Photo.id == photo_id) if photo_id else None
        if self.photo is None:
            raise NotFound()

    def require_owner(self):
        if self.photo.owner_id != current.user.id:
            raise Forbidden()

    def set_form(self):
        self.form = PhotoForm(self.params, object=getattr(self, "photo", None))
        self.upload = uploads.get_upload(self.request.form, "image")
        self.upload_error = ""

    def validate_upload(self):
        if self.upload and not uploads.is_image(self.upload):
            self.upload_error = ERROR_NOT_AN_IMAGE
            self.redo()

    def close_uploads(self):
        uploads.close_uploads(self.request.form)
