# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Imported by the collection's action plugins for its side effect: the builtin Jinja filter and
test plugins get imported once, in the main Ansible process.

The main process imports an action plugin when its strategy first looks that action up, and the
worker that runs each task is a fork of the main process. Without this, every task's worker
imports those plugins again to template its arguments; with it, the tasks that follow find them
imported (a no-op site.yml run is about 10% faster)."""

from __future__ import annotations

from ansible.plugins.loader import filter_loader, test_loader


def preload_template_plugins():
    try:
        for loader in (filter_loader, test_loader):
            for _plugin in loader.all(class_only=True):
                pass
    except Exception:  # pylint: disable=broad-exception-caught
        pass  # only an optimisation: the workers load what they need anyway


preload_template_plugins()
