"""The Python client (client/python) against a 3-node kvharness cluster over
mutual TLS: put, get with siblings, the context round trip, delete, a
readable error for bad input, and the certificates a node refuses. ctest runs it with PYTHONPATH set to the generated
stubs and the client, and QKV_BIN to the built programs."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

try:
    import grpc

    from quorumkv_client import Client, QuorumkvError
except ImportError as missing:  # scripts/setup.sh installs python3-grpcio
    print(f"skipped: {missing} (run scripts/setup.sh)")
    sys.exit(77)  # ctest's skip code

BIN = os.environ.get("QKV_BIN", "build/bin")


def harness(directory, *args):
    run = subprocess.run([os.path.join(BIN, "kvharness"), "--dir", directory, *args],
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise RuntimeError(f"kvharness {' '.join(args)} exited {run.returncode}: {run.stderr}")
    return run


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="qkv-python-")
        try:
            harness(cls.dir, "up", "--nodes", "3")
        except Exception:
            harness(cls.dir, "down")  # the nodes it did start
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise
        with open(os.path.join(cls.dir, "endpoints")) as f:
            cls.endpoints = f.read().strip().split(",")
        cls.tls_dir = os.path.join(cls.dir, "tls")
        cls.client = Client.with_tls_dir(cls.endpoints, cls.tls_dir)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        harness(cls.dir, "down")
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_a_put_is_read_back_with_its_quorum(self):
        put = self.client.put(b"py/one", b"hello", w=2)
        self.assertGreater(put.counter, 0)
        got = self.client.get(b"py/one", r=2)
        self.assertTrue(got.found)
        self.assertEqual(got.values(), [b"hello"])
        self.assertEqual(got.quorum.required, 2)
        self.assertEqual(got.quorum.n, 3)

    def test_concurrent_puts_are_siblings_until_a_put_with_the_context(self):
        self.client.put(b"py/cart", b"apples")
        self.client.put(b"py/cart", b"pears")  # blind: kept beside the first
        got = self.client.get(b"py/cart")
        self.assertEqual(sorted(got.values()), [b"apples", b"pears"])
        self.client.put(b"py/cart", b"apples+pears", context=got.context)
        self.assertEqual(self.client.get(b"py/cart").values(), [b"apples+pears"])

    def test_a_delete_with_the_context_leaves_a_tombstone(self):
        self.client.put(b"py/gone", b"v")
        got = self.client.get(b"py/gone")
        self.client.delete(b"py/gone", got.context)
        after = self.client.get(b"py/gone")
        self.assertFalse(after.found)
        self.assertTrue(all(s.tombstone for s in after.siblings))

    def test_bad_input_fails_naming_the_limit(self):
        with self.assertRaises(QuorumkvError) as raised:
            self.client.put(b"k" * 1025, b"v")
        self.assertEqual(raised.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("max_key_bytes=1024", raised.exception.details)

    def test_an_unreachable_endpoint_is_skipped(self):
        with Client.with_tls_dir(["127.0.0.1:1"] + self.endpoints, self.tls_dir,
                                 timeout=5.0) as client:
            client.put(b"py/skip", b"v")
            self.assertEqual(client.get(b"py/skip").values(), [b"v"])

    def test_a_client_without_a_certificate_is_refused(self):
        with Client(self.endpoints[:1], timeout=2.0) as plaintext:
            with self.assertRaises(QuorumkvError) as raised:
                plaintext.get(b"py/one")
            self.assertEqual(raised.exception.code, grpc.StatusCode.UNAVAILABLE)

    def test_a_node_certificate_is_not_a_client_certificate(self):
        def read(name):
            with open(os.path.join(self.tls_dir, name), "rb") as f:
                return f.read()
        with Client(self.endpoints[:1], root_certificates=read("ca.pem"),
                    certificate_chain=read("n2.pem"), private_key=read("n2-key.pem")) as node:
            with self.assertRaises(QuorumkvError) as raised:
                node.get(b"py/one")
            self.assertEqual(raised.exception.code, grpc.StatusCode.PERMISSION_DENIED)
            self.assertIn("node:n2", raised.exception.details)


if __name__ == "__main__":
    unittest.main()
