"""During tests a connection to another host, or a lookup of a host name,
is refused before anything is sent, naming the host and the test; loopback
works; tests, classes and projects can opt in."""
import asyncio
import http.server
import ipaddress
import os
import socket
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import peewee as pw

from proper_unittest import NetworkBlockedError, UnsafeDatabaseError, allow_network
from proper_unittest.isolation import local_names
from tests.support.inner import NotesCase, run_inner, run_suite

# TEST-NET-1 (RFC 5737): never routed, so a real connection attempt would
# hang until its timeout instead of failing fast.
OUTSIDE = ("192.0.2.1", 443)


NAME = "example.com"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the stdlib class's own is left alone
        pass


def serve_http_on_loopback(test):
    """Serve HTTP on 127.0.0.1 from a daemon thread until `test` ends; return the port."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    test.addCleanup(server.server_close)
    test.addCleanup(server.shutdown)
    return server.server_address[1]


def connect_outside() -> None:
    with socket.create_connection(OUTSIDE, timeout=5):
        pass


def udp(send):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        send(sock)


def connect_ex():
    with socket.socket() as sock:
        sock.settimeout(5)
        return sock.connect_ex(OUTSIDE)


def through_the_proxy():
    try:
        urllib.request.build_opener().open("http://example.com/", timeout=5).close()  # reads HTTP_PROXY now
    except urllib.error.URLError as error:
        raise error.reason from None


async def asyncio_routes(route):
    """The ways asyncio reaches other hosts, each run on its own (see ROUTES)."""
    loop = asyncio.get_running_loop()
    if route == "asyncio getaddrinfo (executor)":
        await loop.getaddrinfo(NAME, 443)
    elif route == "asyncio open_connection by name":
        await asyncio.open_connection(NAME, 443)
    elif route == "asyncio create_connection":
        await asyncio.wait_for(loop.create_connection(asyncio.Protocol, *OUTSIDE), 5)
    elif route == "asyncio sock_connect":
        with socket.socket() as sock:
            sock.setblocking(False)
            await asyncio.wait_for(loop.sock_connect(sock, OUTSIDE), 5)
    elif route == "asyncio datagram sendto":
        errors = []

        class Protocol(asyncio.DatagramProtocol):
            error_received = errors.append  # where the transport reports a failed send

        transport, _ = await loop.create_datagram_endpoint(Protocol, local_addr=("0.0.0.0", 0))
        try:
            transport.sendto(b"x", ("192.0.2.1", 9))
        finally:
            transport.close()
        if errors:
            raise errors[0]


# Every way out a pure-Python test can take, to a TEST-NET address or a
# DNS name; each must raise NetworkBlockedError naming what was refused.
ROUTES = {
    "socket.getaddrinfo": (lambda: socket.getaddrinfo(NAME, 443), NAME),
    "socket.gethostbyname": (lambda: socket.gethostbyname(NAME), NAME),
    "socket.gethostbyname_ex": (lambda: socket.gethostbyname_ex(NAME), NAME),
    "socket.gethostbyaddr": (lambda: socket.gethostbyaddr("192.0.2.1"), "192.0.2.1"),
    "socket.getnameinfo": (lambda: socket.getnameinfo(OUTSIDE, 0), "192.0.2.1"),
    "create_connection by name": (lambda: socket.create_connection((NAME, 443), timeout=5), NAME),
    "create_connection": (connect_outside, "192.0.2.1, port 443"),
    "connect_ex": (connect_ex, "192.0.2.1, port 443"),
    "UDP sendto": (lambda: udp(lambda s: s.sendto(b"x", ("192.0.2.1", 9))), "192.0.2.1, port 9"),
    "UDP sendmsg": (lambda: udp(lambda s: s.sendmsg([b"x"], [], 0, ("192.0.2.1", 9))), "192.0.2.1, port 9"),
    "bind to a name": (lambda: udp(lambda s: s.bind((NAME, 0))), NAME),
    "DNS query to a loopback resolver": (
        lambda: udp(lambda s: s.sendto(b"x", ("127.0.0.53", 53))), "port 53: a DNS resolver on this machine"),
    "a loopback proxy": (through_the_proxy, "127.0.0.1, port 9: the proxy in HTTP_PROXY on this machine"),
    **{route: (lambda route=route: asyncio.run(asyncio_routes(route)), where) for route, where in (
        ("asyncio getaddrinfo (executor)", NAME),
        ("asyncio open_connection by name", NAME),
        ("asyncio create_connection", "192.0.2.1, port 443"),
        ("asyncio sock_connect", "192.0.2.1, port 443"),
        ("asyncio datagram sendto", "192.0.2.1, port 9"),
    )},
}


class NetworkGuardTests(unittest.TestCase):
    def test_an_outside_connection_fails_fast_naming_host_port_and_test(self):
        seen = []

        class Case(NotesCase):
            def test_calls_out(self):
                started = time.monotonic()
                try:
                    connect_outside()
                except NetworkBlockedError as error:
                    seen.append((str(error), time.monotonic() - started))
                    raise

        result, output = run_inner(Case)
        self.assertEqual(len(result.errors), 1, output)
        message, seconds = seen[0]
        self.assertIn("192.0.2.1, port 443", message)
        self.assertIn("Case.test_calls_out", message)
        self.assertIn("nothing was sent", message)
        self.assertLess(seconds, 1.0, "refused before any connection attempt")
        self.assertIsInstance(NetworkBlockedError("x"), ConnectionRefusedError)

    def test_every_route_out_is_refused_naming_what_and_the_test(self):
        outcomes = {}

        class Case(NotesCase):
            def test_routes(self):
                for route, (attempt, _) in ROUTES.items():
                    try:
                        attempt()
                        outcomes[route] = "sent"
                    except NetworkBlockedError as error:
                        outcomes[route] = str(error)
                    except Exception as error:  # the guard let it through
                        outcomes[route] = repr(error)

        # A proxy on this machine forwards to other hosts (nothing listens here).
        os.environ["HTTP_PROXY"] = "http://127.0.0.1:9"
        self.addCleanup(os.environ.pop, "HTTP_PROXY")
        result, output = run_inner(Case)
        self.assertTrue(result.wasSuccessful(), output)
        for route, (_, where) in ROUTES.items():
            with self.subTest(route):
                self.assertRegex(outcomes[route], r"^Network access refused during tests\.isolation\.test_network\..*"
                                                  r"Case\.test_routes: ")
                self.assertIn(where, outcomes[route])
        self.assertIn(f"a lookup of the host name '{NAME}' (socket.getaddrinfo)", outcomes["socket.getaddrinfo"])
        self.assertIn("(no query was sent)", outcomes["socket.getaddrinfo"])

    def test_lookups_that_send_no_query_out_work(self):
        outcomes = []

        class Case(NotesCase):
            def test_local_lookups(self):
                outcomes.append(socket.getaddrinfo("localhost", 80)[0][4][0])
                outcomes.append(socket.getaddrinfo("192.0.2.1", 443)[0][4][0])  # numeric: no query
                outcomes.append(socket.getnameinfo(OUTSIDE, socket.NI_NUMERICHOST)[0])
                outcomes.append(socket.getfqdn())  # this machine's name (a mailer's Message-ID)
                outcomes.append(socket.gethostbyaddr("127.0.0.1")[0])

        result, output = run_inner(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(outcomes[1:3], ["192.0.2.1", "192.0.2.1"])
        self.assertEqual(len(outcomes), 5)

    def test_a_c_driver_is_stopped_by_the_database_guard(self):
        # libpq opens its own sockets, unseen by the network guard: a
        # database that is not the run's test database is refused before
        # the driver is called.
        outcomes = []

        class Case(NotesCase):
            def test_elsewhere(self):
                elsewhere = pw.PostgresqlDatabase("reports_test", host="192.0.2.1", connect_timeout=3)
                with self.assertRaises(UnsafeDatabaseError) as caught:
                    elsewhere.connect()
                outcomes.append(str(caught.exception))

        result, output = run_inner(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertIn("reports_test", outcomes[0])

    def test_a_host_name_is_named(self):
        seen = []

        class Case(NotesCase):
            def test_by_name(self):
                with socket.socket() as sock, self.assertRaises(NetworkBlockedError) as caught:
                    sock.connect(("api.example.invalid", 80))
                seen.append(str(caught.exception))

        result, output = run_inner(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertIn("api.example.invalid, port 80", seen[0])

    def test_a_loopback_server_works(self):
        port = serve_http_on_loopback(self)
        statuses = []

        class Case(NotesCase):
            def test_local(self):
                for host in ("127.0.0.1", "localhost"):
                    with urllib.request.urlopen(f"http://{host}:{port}/", timeout=5) as response:
                        statuses.append(response.status)

        result, output = run_inner(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(statuses, [200, 200])

    def test_opt_in_per_test_and_per_class(self):
        outcomes = {}

        def attempt(name):
            for what, call in (("", connect_outside), (" lookup", lambda: socket.getaddrinfo("example.invalid", 80))):
                try:
                    call()
                except NetworkBlockedError:
                    outcomes[name + what] = "blocked"
                except OSError:
                    outcomes[name + what] = "attempted"  # the guard let it through

        class PerTest(NotesCase):
            @allow_network
            def test_allowed(self):
                attempt("test allowed")

            def test_not(self):
                attempt("test not")

        @allow_network
        class PerClass(NotesCase):
            def test_any(self):
                attempt("class decorator")

        class PerSetting(NotesCase):
            allow_outside = ("network",)

            def test_any(self):
                attempt("class setting")

        socket.setdefaulttimeout(0.2)
        self.addCleanup(socket.setdefaulttimeout, None)
        result, output = run_inner(PerTest, PerClass, PerSetting)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(outcomes, {
            "test allowed": "attempted", "test not": "blocked",
            "class decorator": "attempted", "class setting": "attempted",
            "test allowed lookup": "attempted", "test not lookup": "blocked",
            "class decorator lookup": "attempted", "class setting lookup": "attempted",
        })

    def test_outside_a_test_class_nothing_is_checked(self):
        class Case(NotesCase):
            def test_nothing(self):
                pass

        run_inner(Case)
        with socket.socket() as sock:
            sock.settimeout(0.05)
            with self.assertRaises(OSError) as caught:
                sock.connect(OUTSIDE)
        self.assertNotIsInstance(caught.exception, NetworkBlockedError)

    def test_project_opt_in_under_plain_unittest(self):
        source = (
            "import socket\n"
            "from proper_unittest import NetworkBlockedError\n"
            "from tests.support.inner import NotesCase\n"
            "class Case(NotesCase):\n"
            "    def test_out(self):\n"
            "        try:\n"
            "            socket.create_connection(('192.0.2.1', 443), timeout=0.2)\n"
            "        except NetworkBlockedError as error:\n"
            "            print('BLOCKED', error)\n"
            "        except OSError:\n"
            "            print('ATTEMPTED')\n"
        )
        # Its own database: this process holds the notes app's.
        env = {"NOTES_DB_NAME": "notes_network_test"}
        refused = run_suite(source, env=env)
        self.assertIn("BLOCKED Network access refused during test_inner_case.Case.test_out", refused.stdout,
                      refused.stderr)
        allowed = run_suite({"test_inner_case.py": source, "setup.cfg": "[proper_unittest]\nallow_outside = network\n"},
                            env=env)
        self.assertIn("ATTEMPTED", allowed.stdout, allowed.stderr)


class UnderPytestTests(unittest.TestCase):
    def test_the_guard_works_under_pytest(self):
        guarded = (
            "import socket\n"
            "from tests.support.inner import NotesCase\n"
            "class Case(NotesCase):\n"
            "    def test_out(self):\n"
            "        socket.create_connection(('192.0.2.1', 443), timeout=5)\n"
        )
        run = run_suite({"test_guarded.py": guarded}, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_guarded.py",
                        env={"NOTES_DB_NAME": "notes_network_test"})
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("NetworkBlockedError: Network access refused during test_guarded.Case.test_out: "
                      "a connection to 192.0.2.1, port 443", run.stdout)


def hosts_addresses():
    """The addresses /etc/hosts names (what the resolver answers without DNS)."""
    found = set()
    with open("/etc/hosts") as file:
        for line in file:
            fields = line.split("#", 1)[0].split()
            if len(fields) >= 2:
                try:
                    found.add(ipaddress.ip_address(fields[0].split("%")[0]))
                except ValueError:
                    pass
    return found


def outcome(call):
    """("refused", message), ("answered", value) or ("failed", error): what a lookup did."""
    try:
        return "answered", call()
    except NetworkBlockedError as error:
        return "refused", str(error)
    except Exception as error:  # the guard let it through to the resolver
        return "failed", repr(error)


def connect_over_ipv6(address):
    with socket.socket(socket.AF_INET6) as sock:
        sock.settimeout(5)
        sock.connect(address)


def addresses(infos):
    return sorted({info[4][0] for info in infos})


class LocalLookupTests(unittest.TestCase):
    """A lookup reaches the system resolver only when this machine answers
    it (the hosts file, localhost); one only a DNS server could answer is
    refused before any query is sent (checked with strace: no packet to port 53)."""

    def run_lookups(self, lookups):
        outcomes = {}

        class Case(NotesCase):
            def test_lookups(self):
                for label, call in lookups.items():
                    outcomes[label] = outcome(call)

        result, output = run_inner(Case)
        self.assertTrue(result.wasSuccessful(), output)
        return outcomes

    def assertRefused(self, found, *parts):
        self.assertEqual(found[0], "refused", found)
        self.assertRegex(found[1], r"^Network access refused during tests\.isolation\.test_network\..*"
                                   r"Case\.test_lookups: ")
        for part in parts:
            self.assertIn(part, found[1])
        self.assertIn("(no query was sent)", found[1])

    def test_reverse_lookups_of_addresses_not_in_the_hosts_file_are_refused(self):
        in_hosts = hosts_addresses()
        lookups = {
            "gethostbyaddr 127.0.0.99": lambda: socket.gethostbyaddr("127.0.0.99"),
            "getnameinfo 0.0.0.0": lambda: socket.getnameinfo(("0.0.0.0", 80), 0),
            "gethostbyaddr ::1": lambda: socket.gethostbyaddr("::1"),
            "getnameinfo ::1": lambda: socket.getnameinfo(("::1", 80, 0, 0), socket.NI_NUMERICSERV),
        }
        outcomes = self.run_lookups(lookups)
        self.assertRefused(outcomes["gethostbyaddr 127.0.0.99"], "a reverse lookup of 127.0.0.99 (socket.gethostbyaddr)")
        if ipaddress.ip_address("0.0.0.0") not in in_hosts:
            self.assertRefused(outcomes["getnameinfo 0.0.0.0"], "a reverse lookup of 0.0.0.0 (socket.getnameinfo)")
        if ipaddress.ip_address("::1") in in_hosts:  # answered from the hosts file
            self.assertEqual(outcomes["gethostbyaddr ::1"][0], "answered")
            self.assertEqual(outcomes["gethostbyaddr ::1"][1][2], ["::1"])
            self.assertEqual(outcomes["getnameinfo ::1"], ("answered", (outcomes["gethostbyaddr ::1"][1][0], "80")))
        else:
            self.assertRefused(outcomes["gethostbyaddr ::1"], "a reverse lookup of ::1 (socket.gethostbyaddr)")
            self.assertRefused(outcomes["getnameinfo ::1"], "a reverse lookup of ::1 (socket.getnameinfo)")

    def test_reverse_lookups_the_hosts_file_answers_work(self):
        outcomes = self.run_lookups({
            "gethostbyaddr": lambda: socket.gethostbyaddr("127.0.0.1"),
            "getnameinfo": lambda: socket.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICSERV),
            "numeric getnameinfo": lambda: socket.getnameinfo(("127.0.0.99", 80), socket.NI_NUMERICHOST),
        })
        name, _, found = outcomes["gethostbyaddr"][1]
        self.assertEqual(found, ["127.0.0.1"])
        self.assertEqual(outcomes["getnameinfo"], ("answered", (name, "80")))
        self.assertEqual(outcomes["numeric getnameinfo"], ("answered", ("127.0.0.99", "http")))

    def test_localhost_names_are_answered_with_loopback_for_the_asked_family(self):
        # RFC 6761: localhost and *.localhost are loopback; glibc's "files dns"
        # would ask a DNS server for *.localhost, and for localhost's IPv6
        # address when /etc/hosts has no ::1 line.
        outcomes = self.run_lookups({
            "getaddrinfo piso.localhost": lambda: addresses(socket.getaddrinfo("piso.localhost", 80)),
            "getaddrinfo piso.localhost IPv4": lambda: addresses(
                socket.getaddrinfo("PISO.localhost.", 80, socket.AF_INET, socket.SOCK_STREAM)),
            "getaddrinfo localhost IPv6": lambda: addresses(socket.getaddrinfo("localhost", 80, socket.AF_INET6)),
            "getaddrinfo localhost IPv4": lambda: addresses(socket.getaddrinfo("localhost", 80, socket.AF_INET)),
            "gethostbyname piso.localhost": lambda: socket.gethostbyname("piso.localhost"),
            "gethostbyname_ex a.b.localhost": lambda: socket.gethostbyname_ex("a.b.localhost")[2],
            "canonical name": lambda: socket.getaddrinfo(
                "piso.localhost", 80, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_CANONNAME)[0][3],
            "numeric loopback": lambda: addresses(socket.getaddrinfo("127.0.0.99", 80, socket.AF_INET)),
            "numeric IPv6 loopback": lambda: addresses(socket.getaddrinfo("::1", 80)),
        })
        self.assertEqual(outcomes["getaddrinfo piso.localhost"][0], "answered", outcomes)
        self.assertIn("127.0.0.1", outcomes["getaddrinfo piso.localhost"][1])
        self.assertTrue(all(ipaddress.ip_address(a).is_loopback for a in outcomes["getaddrinfo piso.localhost"][1]))
        self.assertEqual(outcomes["getaddrinfo piso.localhost IPv4"], ("answered", ["127.0.0.1"]))
        self.assertEqual(outcomes["getaddrinfo localhost IPv6"], ("answered", ["::1"]))
        self.assertEqual(outcomes["getaddrinfo localhost IPv4"], ("answered", ["127.0.0.1"]))
        self.assertEqual(outcomes["gethostbyname piso.localhost"], ("answered", "127.0.0.1"))
        self.assertEqual(outcomes["gethostbyname_ex a.b.localhost"], ("answered", ["127.0.0.1"]))
        self.assertEqual(outcomes["canonical name"], ("answered", "piso.localhost"))
        self.assertEqual(outcomes["numeric loopback"], ("answered", ["127.0.0.99"]))
        self.assertEqual(outcomes["numeric IPv6 loopback"], ("answered", ["::1"]))

    def test_a_localhost_name_reaches_a_loopback_server(self):
        port = serve_http_on_loopback(self)
        receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(receiver.close)
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(5)

        def by_socket_methods():
            with socket.socket() as sock:  # the socket's C code would resolve the name itself
                sock.settimeout(5)
                sock.connect(("piso.localhost", port))
            udp(lambda s: s.sendto(b"ping", ("piso.localhost", receiver.getsockname()[1])))
            return receiver.recv(10)

        outcomes = self.run_lookups({
            "urlopen": lambda: urllib.request.urlopen(f"http://piso.localhost:{port}/", timeout=5).status,
            "socket methods": by_socket_methods,
        })
        self.assertEqual(outcomes, {"urlopen": ("answered", 200), "socket methods": ("answered", b"ping")})

    def test_a_name_the_hosts_file_gives_only_another_family_is_refused_for_that_family(self):
        with tempfile.NamedTemporaryFile("w", suffix="hosts", delete=False) as file:
            file.write("127.0.0.1 localhost\n10.0.0.7 db.internal db  # the app's\n")
        self.addCleanup(os.unlink, file.name)
        previous = local_names.HOSTS_FILE
        local_names.HOSTS_FILE = file.name
        self.addCleanup(setattr, local_names, "HOSTS_FILE", previous)

        def after_an_edit():
            with open(file.name, "a") as hosts:
                hosts.write("fd00::7 db\n")
            os.utime(file.name, ns=(time.time_ns(), time.time_ns() + 10**9))
            return addresses(socket.getaddrinfo("db", 5432, socket.AF_INET6))

        outcomes = self.run_lookups({
            "IPv4": lambda: addresses(socket.getaddrinfo("DB", 5432, socket.AF_INET)),
            "gethostbyname_ex": lambda: socket.gethostbyname_ex("db"),
            "gethostbyaddr": lambda: socket.gethostbyaddr("10.0.0.7"),
            "IPv6": lambda: socket.getaddrinfo("db", 5432, socket.AF_INET6),
            "connect over IPv6": lambda: connect_over_ipv6(("db", 5432)),
            "IPv6 after an edit": after_an_edit,
        })
        self.assertEqual(outcomes["IPv4"], ("answered", ["10.0.0.7"]))
        self.assertEqual(outcomes["gethostbyname_ex"], ("answered", ("db.internal", ["db"], ["10.0.0.7"])))
        self.assertEqual(outcomes["gethostbyaddr"], ("answered", ("db.internal", ["db"], ["10.0.0.7"])))
        self.assertRefused(outcomes["IPv6"], "a lookup of the host name 'db' (socket.getaddrinfo)",
                           f"it is not in {file.name} for IPv6")
        self.assertEqual(outcomes["connect over IPv6"][0], "refused")
        self.assertIn("a connection to db, port 5432 (socket.connect), whose address only a DNS server could give",
                      outcomes["connect over IPv6"][1])
        self.assertEqual(outcomes["IPv6 after an edit"], ("answered", ["fd00::7"]))
