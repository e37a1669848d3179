"""URLconf of the Django integration app."""

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


def user(request, user_id):
    return JsonResponse({"id": user_id})


def reviews(request, item_id):
    return JsonResponse([], safe=False)


@csrf_exempt
def order(request):
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [
    path("users/<int:user_id>/", user),
    path("api/", include([path("items/<str:item_id>/reviews/", reviews)])),
    path("orders/", order),
]
