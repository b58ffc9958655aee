from django.urls import path  # noqa: F401

# Case pages show tasks too, so they live in tasks_app (the layer above engine).
urlpatterns: list = []
