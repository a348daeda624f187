"""Storage settings (Proper's storage addon): where attachments' files go."""
import os
import tempfile


env = os.getenv("APP_ENV", "dev")

# Disk roots are relative to the project folder (or absolute).
STORAGES = {
    "local": {"type": "Disk", "root": "storage/files"},
    # Tests write to a folder of their own, outside the project.
    "test": {"type": "Disk", "root": os.path.join(tempfile.gettempdir(), "myapp-test-storage")},
}
STORAGE = "test" if env == "test" else "local"

# Content types served inline (the rest as downloads).
STORAGE_ALLOWED_INLINE = ["image/*"]
