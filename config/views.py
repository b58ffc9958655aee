from django.shortcuts import render


def _page(request, status: int, code: str, message: str):
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse(
            {"code": code, "message": message, "details": {}}, status=status
        )
    return render(
        request,
        f"errors/{status}.html",
        {"error": {"code": code, "message": message}},
        status=status,
    )


def bad_request(request, exception=None):
    return _page(request, 400, "bad_request", "The request could not be understood.")


def permission_denied(request, exception=None):
    return _page(request, 403, "permission_denied", "You may not do this.")


def page_not_found(request, exception=None):
    return _page(
        request, 404, "not_found", "There is nothing here, or you may not see it."
    )


def server_error(request):
    return _page(request, 500, "server_error", "Something went wrong on our side.")
