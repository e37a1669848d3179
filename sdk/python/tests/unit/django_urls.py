"""URLconf of the Django middleware tests."""

from django.http import HttpResponse, JsonResponse
from django.urls import include, path, re_path


def user(request, user_id):
    return JsonResponse({"id": user_id})


def reviews(request, item_id):
    return JsonResponse([], safe=False)


def order(request):
    return JsonResponse({"ok": True}, status=201)


def crash(request):
    raise RuntimeError("bug")


def archive(request, year):
    return HttpResponse("ok")


urlpatterns = [
    path("users/<int:user_id>/", user),
    path("api/", include([path("items/<str:item_id>/reviews/", reviews)])),
    path("orders/", order),
    path("crash/", crash),
    re_path(r"^archive/(?P<year>[0-9]{4})/$", archive),
]
