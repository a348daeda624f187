from proper import Controller
from proper.concerns import FormValidation, RateLimiting


class AppController(
    RateLimiting,
    FormValidation,
    Controller,
):
    pass
