"""A small Python client of quorumkv: put, get with siblings, delete, and the
causal context round trip, over the wire API of proto/kv.proto.

It needs only Debian's python3-grpcio and python3-protobuf, and the stubs
generated from proto/kv.proto at build time (build/gen/python: kv_pb2.py,
kv_pb2_grpc.py). Put that directory and this one on PYTHONPATH:

    PYTHONPATH=build/gen/python:client/python python3 -c '
    from quorumkv_client import Client
    c = Client.with_tls_dir(open(".kvharness/endpoints").read().split(","),
                            ".kvharness/tls")
    c.put(b"cart/alice", b"apples")
    print(c.get(b"cart/alice").values())'

Semantics are the store's (docs/semantics.md): a put without a context is a
blind write, kept beside any value already there; a put with the context of
an earlier get replaces what that get saw. A failure raises QuorumkvError
with the gRPC code (UNAVAILABLE: quorum not met, DEADLINE_EXCEEDED: outcome
unknown, INVALID_ARGUMENT: bad input, nothing written) and, when the node got
as far as asking replicas, the quorum metadata of the attempt.

Like the C++ client, every put and delete carries an idempotency key (random
unless given), so trying the next endpoint after an unreachable one, or
repeating a write whose outcome was unknown with the same key, applies it
once. Not thread-safe: one Client per thread.
"""

import dataclasses
import os
from typing import List, Optional, Sequence

import grpc

import kv_pb2
import kv_pb2_grpc

_DETAILS_KEY = "grpc-status-details-bin"


class QuorumkvError(Exception):
    """A request failed: `code` (grpc.StatusCode), `details`, `quorum`."""

    def __init__(self, code, details: str, quorum: Optional[kv_pb2.QuorumInfo]):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.quorum = quorum


@dataclasses.dataclass
class Sibling:
    value: bytes
    tombstone: bool
    actor: str
    counter: int


@dataclasses.dataclass
class GetResult:
    key: bytes
    found: bool  # some sibling is live (not a tombstone)
    siblings: List[Sibling]
    context: bytes  # opaque: hand it to put or delete to replace what was read
    quorum: kv_pb2.QuorumInfo

    def values(self) -> List[bytes]:
        """The live values: one, or several concurrent ones (siblings)."""
        return [s.value for s in self.siblings if not s.tombstone]


@dataclasses.dataclass
class PutResult:
    key: bytes
    actor: str
    counter: int
    context: bytes  # covers this write and what its context covered
    quorum: kv_pb2.QuorumInfo


def _never_reached(details: str) -> bool:
    """The request provably never reached a coordinator (as the C++
    client's NeverReachedCoordinator)."""
    return any(s in details for s in ("failed to connect", "Connection refused",
                                      "node is starting"))


def _quorum_of(error: grpc.RpcError) -> Optional[kv_pb2.QuorumInfo]:
    for key, value in error.trailing_metadata() or ():
        if key == _DETAILS_KEY:
            try:
                return kv_pb2.QuorumInfo.FromString(value)
            except Exception:  # not a QuorumInfo: no metadata to show
                return None
    return None


class Client:
    """A client of the nodes at `endpoints` ("host:port" each), tried in order.

    With `root_certificates` (the cluster's CA), `certificate_chain` and
    `private_key` (a client certificate, common name "client:NAME"), PEM
    bytes, the channels use mutual TLS, as nodes started with --ca/--cert/--key
    require (kvharness's, by default); without, plaintext. `Client.with_tls_dir` reads them from
    a directory laid out as kvharness writes DIR/tls.
    """

    @classmethod
    def with_tls_dir(cls, endpoints: Sequence[str], tls_dir: str, **kwargs) -> "Client":
        """A client using ca.pem, client.pem and client-key.pem of `tls_dir`."""
        def read(name):
            with open(os.path.join(tls_dir, name), "rb") as f:
                return f.read()
        return cls(endpoints, root_certificates=read("ca.pem"),
                   certificate_chain=read("client.pem"),
                   private_key=read("client-key.pem"), **kwargs)

    def __init__(self, endpoints: Sequence[str], timeout: float = 5.0,
                 root_certificates: Optional[bytes] = None,
                 certificate_chain: Optional[bytes] = None,
                 private_key: Optional[bytes] = None):
        if not endpoints:
            raise ValueError("no endpoints")
        self._timeout = timeout
        self._endpoints = [e.strip() for e in endpoints]
        self._channels = []
        for endpoint in self._endpoints:
            if root_certificates is not None:
                credentials = grpc.ssl_channel_credentials(
                    root_certificates=root_certificates, private_key=private_key,
                    certificate_chain=certificate_chain)
                channel = grpc.secure_channel(endpoint, credentials)
            else:
                channel = grpc.insecure_channel(endpoint)
            self._channels.append(channel)
        self._stubs = [kv_pb2_grpc.KvServiceStub(c) for c in self._channels]

    def close(self):
        for channel in self._channels:
            channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def get(self, key: bytes, r: int = 0, strict: bool = False) -> GetResult:
        reply = self._call("Get", kv_pb2.GetRequest(key=key, r=r, strict=strict))
        siblings = [Sibling(s.value, s.tombstone, s.dot.actor, s.dot.counter)
                    for s in reply.siblings]
        return GetResult(reply.key, reply.found, siblings, reply.context, reply.quorum)

    def put(self, key: bytes, value: bytes, context: bytes = b"", w: int = 0,
            strict: bool = False, idempotency_key: Optional[bytes] = None) -> PutResult:
        request = kv_pb2.PutRequest(key=key, value=value, context=context, w=w, strict=strict,
                                    idempotency_key=idempotency_key or os.urandom(16).hex().encode())
        return self._put_result(self._call("Put", request))

    def delete(self, key: bytes, context: bytes, w: int = 0, strict: bool = False,
               idempotency_key: Optional[bytes] = None) -> PutResult:
        """Deletes what `context` (from a get) covers: a tombstone."""
        request = kv_pb2.DeleteRequest(
            key=key, context=context, w=w, strict=strict,
            idempotency_key=idempotency_key or os.urandom(16).hex().encode())
        return self._put_result(self._call("Delete", request))

    @staticmethod
    def _put_result(reply) -> PutResult:
        return PutResult(reply.key, reply.dot.actor, reply.dot.counter, reply.context,
                         reply.quorum)

    def _call(self, method: str, request):
        """Tries each endpoint until one answers. Moves on only from a node
        that could not be reached (UNAVAILABLE with no quorum metadata): a
        node that answered decided the request. A put or delete whose
        connection dropped with the call in flight may have been applied:
        if no later endpoint completes it, the outcome is unknown
        (DEADLINE_EXCEEDED), whatever the later endpoints said."""
        maybe_applied = None  # the first endpoint that may have applied a write
        last = None
        for endpoint, stub in zip(self._endpoints, self._stubs):
            try:
                return getattr(stub, method)(request, timeout=self._timeout)
            except grpc.RpcError as error:
                quorum = _quorum_of(error)
                last = QuorumkvError(error.code(), error.details() or "", quorum)
                unreachable = error.code() == grpc.StatusCode.UNAVAILABLE and quorum is None
                if (method != "Get" and unreachable and maybe_applied is None
                        and not _never_reached(error.details() or "")):
                    maybe_applied = endpoint
                if not unreachable:
                    break
        if maybe_applied is not None and last.code not in (
                grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
            raise QuorumkvError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"outcome unknown: {maybe_applied} may have applied the write before its "
                f"connection dropped; {last.details} (repeat it with the same idempotency key)",
                last.quorum)
        raise last
