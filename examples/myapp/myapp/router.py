"""The app's router and its scoped sub-routers."""
from .main import app


router = app.router
api_router = router.scope("api")
