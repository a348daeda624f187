"""Serving stored files (Proper's storage addon): `Attachment.url` points here."""
from proper.errors import NotFound

from ..models import Attachment
from ..router import router
from .app_controller import AppController


class StorageRedirectController(AppController):
    """Redirect to the service's own URL when it has one, else stream the bytes."""

    skip_authentication = True

    @router.get("storage/redirect/:token/:filename")
    def show(self):
        """The file of the attachment the signed token names."""
        attachment = Attachment.get_signed(self.params.get("token"), salt="redirect", max_age=None)
        if not attachment:
            raise NotFound
        service_url = attachment.service_url()
        if service_url:
            self.response.redirect_to(service_url)
        else:
            attachment.send_file()
