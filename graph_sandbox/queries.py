"""Lookups over a scenario's world: accounts, campaigns, ad sets, ads, creatives by account or id, the accounts a
token reaches, the suggested workspaces and the planted anomalies. `Scenario` is built on it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graph_sandbox.anomalies import PlantedAnomaly
from graph_sandbox.model import Account, Ad, AdSet, Campaign, Creative
from graph_sandbox.specs import TokenSpec, Workspace
from graph_sandbox.world import World


class ObjectQueries:
    """The objects of one world (archived and deleted included), as plain frozen dataclasses."""

    def __init__(
        self, world: World, workspaces: Sequence[Workspace], token_specs: Sequence[TokenSpec] | None = None
    ) -> None:
        self._index = world
        self._workspaces = tuple(workspaces)
        # The workspaces' own tokens -> their accounts (what `sentrum sandbox serve` prints first).
        self.tokens: dict[str, list[str]] = {w.token: list(w.account_ids) for w in workspaces}
        specs = token_specs if token_specs is not None else [TokenSpec(w.token, w.account_ids) for w in workspaces]
        self._token_specs: dict[str, TokenSpec] = {t.token: t for t in specs}

    @staticmethod
    def _act(account_id: str) -> str:
        return account_id if account_id.startswith("act_") else f"act_{account_id}"

    def accounts(self) -> list[Account]:
        """All ad accounts, in spec order."""
        return list(self._index.accounts.values())

    def account(self, account_id: str) -> Account:
        """The account ("act_1001" or "1001"); KeyError when unknown."""
        return self._index.accounts[self._act(account_id)]

    def has_account(self, account_id: str) -> bool:
        return self._act(account_id) in self._index.accounts

    def campaigns(self, account_id: str) -> list[Campaign]:
        """All campaigns of the account, archived and deleted included."""
        return list(self._index.campaigns[self._act(account_id)])

    def adsets(self, account_id: str) -> list[AdSet]:
        """All ad sets of the account, archived and deleted included."""
        return list(self._index.adsets[self._act(account_id)])

    def ads(self, account_id: str) -> list[Ad]:
        """All ads of the account, archived and deleted included."""
        return list(self._index.ads[self._act(account_id)])

    def creatives(self, account_id: str) -> list[Creative]:
        return list(self._index.creatives[self._act(account_id)])

    def campaign(self, campaign_id: str) -> Campaign:
        """A campaign by id; KeyError when unknown."""
        return self._typed(campaign_id, Campaign)

    def adset(self, adset_id: str) -> AdSet:
        """An ad set by id; KeyError when unknown."""
        return self._typed(adset_id, AdSet)

    def ad(self, ad_id: str) -> Ad:
        """An ad by id (archived and deleted included); KeyError when unknown."""
        return self._typed(ad_id, Ad)

    def _typed(self, object_id: str, kind: type) -> Any:
        obj = self._index.objects.get(object_id)
        if not isinstance(obj, kind):
            raise KeyError(object_id)
        return obj

    def get_object(self, object_id: str) -> Account | Campaign | AdSet | Ad | Creative | None:
        """Any object by id (accounts by "act_<n>"), or None."""
        return self._index.objects.get(object_id)

    def accounts_for_token(self, token: str) -> list[str]:
        """Account ids ("act_<n>") the token can read; empty for an unknown or expired token."""
        spec = self._token_specs.get(token)
        return [] if spec is None or spec.expired else list(spec.account_ids)

    def token_spec(self, token: str) -> TokenSpec | None:
        """What the scenario knows about a token (expired ones included); None for an unknown token."""
        return self._token_specs.get(token)

    def token_specs(self) -> list[TokenSpec]:
        """Every token of the scenario: the workspaces' own, then the other kinds (`specs.token_variants`)."""
        return list(self._token_specs.values())

    def workspaces(self) -> list[Workspace]:
        """One suggested workspace per token."""
        return list(self._workspaces)

    def anomalies(self) -> list[PlantedAnomaly]:
        """The planted anomalies (spec order), each with the object it targets and the ads it touches."""
        return list(self._index.planted)
