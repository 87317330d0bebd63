"""Views of the cart service, one per operation: parse, call one service or selector,
serialize. Each nests the serializers of its own input and output; they name their
component of the OpenAPI schema (``Meta.ref_name``), which is part of what it publishes.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cart import selectors, services
from cart.models import Example
from souk_common.apis import OperationsApi
from souk_common.auth import request_principal
from souk_common.pagination import PageNumberPagination, paginated_response
from souk_common.permissions import IsUser


def _user_id(request: Request) -> int:
    """The caller's user id (``IsUser`` lets only users in, never a service token)."""
    user_id = request_principal(request).user_id
    assert user_id is not None
    return user_id


class ExampleListApi(APIView):
    """Your examples, newest first, a page at a time."""

    permission_classes = [IsUser]
    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Example
            fields = ["id", "name", "created_at"]
            ref_name = "CartExampleOutput"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginated_response(
            items=selectors.example_list(user_id=_user_id(request)),
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )


class ExampleCreateApi(APIView):
    """Make an example; a name you already use is refused."""

    permission_classes = [IsUser]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)

        class Meta:
            ref_name = "CartExampleInput"

    OutputSerializer = ExampleListApi.OutputSerializer

    @extend_schema(request=InputSerializer, responses={status.HTTP_201_CREATED: OutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        example = services.example_create(
            user_id=_user_id(request), name=serializer.validated_data["name"]
        )
        return Response(self.OutputSerializer(example).data, status=status.HTTP_201_CREATED)


class ExampleDetailApi(APIView):
    """One of your examples; anyone else's is 404."""

    permission_classes = [IsUser]
    OutputSerializer = ExampleListApi.OutputSerializer

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, example_id: int) -> Response:
        example = selectors.example_get(example_id=example_id, user_id=_user_id(request))
        return Response(self.OutputSerializer(example).data)


class ExampleListCreateApi(OperationsApi, ExampleListApi, ExampleCreateApi):
    """Your examples: ``GET`` lists them, ``POST`` makes one. Django routes by path alone,
    so this one view is both operations (each still its own view, with its serializers)."""

    operations = {"GET": ExampleListApi, "POST": ExampleCreateApi}
