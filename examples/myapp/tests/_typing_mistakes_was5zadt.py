from proper_unittest import AsyncChannelTestCase, ProperTestCase, override_cache, override_config


class Sync(ProperTestCase):
    @override_config(DEBUG=True)
    def test_typo(self) -> None:
        self.assertStatuss(self.client.get("/"), 200)

    @override_cache()
    async def test_wrong_keyword(self) -> None:
        self.client.get("/", bodyy=b"")


class Async(AsyncChannelTestCase):
    async def test_not_awaited(self) -> None:
        self.assertContains(self.client.get("/"), "Hello")
        self.client.post("/")


reveal_type(Sync.test_typo)
reveal_type(Sync.test_wrong_keyword)
