"""During tests a connection to another host is refused before anything
is sent, naming the host, the port and the test; loopback works; tests,
classes and projects can opt in."""
import http.server
import socket
import threading
import time
import unittest
import urllib.request

from proper_unittest import NetworkBlockedError, allow_network
from tests.inner import NotesCase, run_inner, run_in_subprocess

# TEST-NET-1 (RFC 5737): never routed, so a real connection attempt would
# hang until its timeout instead of failing fast.
OUTSIDE = ("192.0.2.1", 443)


def connect_outside() -> None:
    with socket.create_connection(OUTSIDE, timeout=5):
        pass


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
        server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        server.RequestHandlerClass.log_message = lambda *args: None
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        port = server.server_address[1]
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
            try:
                connect_outside()
            except NetworkBlockedError:
                outcomes[name] = "blocked"
            except OSError:
                outcomes[name] = "attempted"  # the guard let it through

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
            "from tests.inner import NotesCase\n"
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
        refused = run_in_subprocess(source, env=env)
        self.assertIn("BLOCKED Network access refused during test_inner_case.Case.test_out", refused.stdout,
                      refused.stderr)
        allowed = run_in_subprocess(source, env=env, setup_cfg="[proper_unittest]\nallow_outside = network\n")
        self.assertIn("ATTEMPTED", allowed.stdout, allowed.stderr)


class UnderPytestTests(unittest.TestCase):
    def test_the_guard_works_under_pytest(self):
        import os
        import subprocess
        import sys
        import tempfile
        from pathlib import Path

        from tests.inner import REPO

        with tempfile.TemporaryDirectory() as folder:
            Path(folder, "test_guarded.py").write_text(
                "import socket\n"
                "from tests.inner import NotesCase\n"
                "class Case(NotesCase):\n"
                "    def test_out(self):\n"
                "        socket.create_connection(('192.0.2.1', 443), timeout=5)\n"
            )
            env = {**os.environ, "PYTHONPATH": str(REPO), "NOTES_DB_NAME": "notes_network_test"}
            env.pop("PROPER_UNITTEST_WORKER", None)
            run = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_guarded.py"],
                cwd=folder, env=env, capture_output=True, text=True, timeout=120,
            )
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("NetworkBlockedError: Network access refused during test_guarded.Case.test_out: "
                      "a connection to 192.0.2.1, port 443", run.stdout)
