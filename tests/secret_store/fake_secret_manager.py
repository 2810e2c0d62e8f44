"""A local Secret Manager: a gRPC server speaking `google.cloud.secretmanager.v1.SecretManagerService` with the
client library's own request/response types, on an insecure loopback channel.

There is no usable Secret Manager emulator (stack-notes), so this fake implements the handful of RPCs the store
uses, with Secret Manager's semantics (versions, `latest`, AlreadyExists / NotFound / FailedPrecondition, CRC32C
checks). The production `SecretManagerServiceClient` talks to it unchanged through a
`SecretManagerServiceGrpcTransport(channel=grpc.insecure_channel(...))`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field

import google_crc32c
import grpc
from google.cloud import secretmanager_v1 as sm
from google.cloud.secretmanager_v1.services.secret_manager_service.transports.grpc import (
    SecretManagerServiceGrpcTransport,
)
from google.protobuf import empty_pb2

SERVICE = "google.cloud.secretmanager.v1.SecretManagerService"


@dataclass
class _Secret:
    labels: dict[str, str]
    versions: list[tuple[bytes, str]] = field(default_factory=list)  # (data, state)


class FakeSecretManager:
    def __init__(self) -> None:
        self.secrets: dict[str, _Secret] = {}
        self.calls: list[str] = []
        self.lock = threading.Lock()
        # method name -> status code to fail with (a permission problem, an outage)
        self.fail: dict[str, grpc.StatusCode] = {}
        self.corrupt_next_access = False

    def _check(self, method: str, context: grpc.ServicerContext) -> None:
        self.calls.append(method)
        code = self.fail.get(method)
        if code is not None:
            context.abort(code, f"simulated {code.name}")

    @staticmethod
    def _split(name: str) -> tuple[str, str]:
        parts = name.split("/")
        if len(parts) < 4 or parts[0] != "projects" or parts[2] != "secrets":
            raise ValueError(name)
        return parts[1], parts[3]

    def create_secret(self, request: sm.CreateSecretRequest, context) -> sm.Secret:
        self._check("CreateSecret", context)
        name = f"{request.parent}/secrets/{request.secret_id}"
        with self.lock:
            if name in self.secrets:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"Secret [{name}] already exists.")
            if sm.Replication.pb(request.secret.replication).WhichOneof("replication") is None:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "replication is required")
            self.secrets[name] = _Secret(dict(request.secret.labels))
        return sm.Secret(name=name, labels=request.secret.labels)

    def add_secret_version(self, request: sm.AddSecretVersionRequest, context) -> sm.SecretVersion:
        self._check("AddSecretVersion", context)
        data = request.payload.data
        if request.payload.data_crc32c and int(google_crc32c.value(data)) != request.payload.data_crc32c:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Checksum mismatch")
        with self.lock:
            secret = self.secrets.get(request.parent)
            if secret is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Secret [{request.parent}] not found")
            secret.versions.append((data, "ENABLED"))
            return sm.SecretVersion(name=f"{request.parent}/versions/{len(secret.versions)}")

    def access_secret_version(self, request: sm.AccessSecretVersionRequest, context) -> sm.AccessSecretVersionResponse:
        self._check("AccessSecretVersion", context)
        secret_name, _, version = request.name.rpartition("/versions/")
        with self.lock:
            secret = self.secrets.get(secret_name)
            if secret is None or not secret.versions:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Secret [{secret_name}] not found or has no versions")
            index = len(secret.versions) if version == "latest" else int(version)
            data, state = secret.versions[index - 1]
        if state != "ENABLED":
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"Secret version is in {state} state")
        crc = int(google_crc32c.value(data))
        if self.corrupt_next_access:
            self.corrupt_next_access = False
            data = data[:-1] + b"?"
        return sm.AccessSecretVersionResponse(
            name=f"{secret_name}/versions/{index}", payload=sm.SecretPayload(data=data, data_crc32c=crc)
        )

    def get_secret(self, request: sm.GetSecretRequest, context) -> sm.Secret:
        self._check("GetSecret", context)
        with self.lock:
            secret = self.secrets.get(request.name)
        if secret is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Secret [{request.name}] not found")
        return sm.Secret(name=request.name, labels=secret.labels)

    def delete_secret(self, request: sm.DeleteSecretRequest, context) -> empty_pb2.Empty:
        self._check("DeleteSecret", context)
        with self.lock:
            if self.secrets.pop(request.name, None) is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Secret [{request.name}] not found")
        return empty_pb2.Empty()

    def disable_latest(self, name: str) -> None:
        with self.lock:
            secret = self.secrets[name]
            data, _ = secret.versions[-1]
            secret.versions[-1] = (data, "DISABLED")

    def handler(self) -> grpc.GenericRpcHandler:
        def unary(fn: Callable, request_type, response_serializer) -> grpc.RpcMethodHandler:
            return grpc.unary_unary_rpc_method_handler(
                fn, request_deserializer=request_type.deserialize, response_serializer=response_serializer
            )

        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "CreateSecret": unary(self.create_secret, sm.CreateSecretRequest, sm.Secret.serialize),
                "AddSecretVersion": unary(
                    self.add_secret_version, sm.AddSecretVersionRequest, sm.SecretVersion.serialize
                ),
                "AccessSecretVersion": unary(
                    self.access_secret_version,
                    sm.AccessSecretVersionRequest,
                    sm.AccessSecretVersionResponse.serialize,
                ),
                "GetSecret": unary(self.get_secret, sm.GetSecretRequest, sm.Secret.serialize),
                "DeleteSecret": unary(self.delete_secret, sm.DeleteSecretRequest, empty_pb2.Empty.SerializeToString),
            },
        )


@contextmanager
def running() -> Iterator[tuple[FakeSecretManager, sm.SecretManagerServiceClient]]:
    """The fake on a free loopback port, and the real client connected to it."""
    fake = FakeSecretManager()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((fake.handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    client = sm.SecretManagerServiceClient(transport=SecretManagerServiceGrpcTransport(channel=channel))
    try:
        yield fake, client
    finally:
        channel.close()
        server.stop(grace=None)
