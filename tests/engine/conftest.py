"""Fixtures shared by the engine tests."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group


@pytest.fixture
def integration(users):
    """An integration account (group `integrations`): sends signals and messages."""
    user = get_user_model().objects.create_user("erp", "erp@example.com", "x")
    user.groups.add(Group.objects.get(name="integrations"))
    return user
