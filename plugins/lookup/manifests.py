# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: manifests
short_description: The Kubernetes objects a template renders
version_added: 0.1.0
author:
  - aiplatform.obot developers (!UNKNOWN)
description:
  - Renders each template (found like M(ansible.builtin.template) finds it, in the role's C(templates) directory) and
    returns the YAML documents it produces, empty ones left out, as one list of objects.
  - The same as C(lookup('ansible.builtin.template', name) | ansible.builtin.from_yaml_all | select | list), without
    the copy of every variable that lookup makes for each template (the cost of a role's apply task, otherwise).
  - C({% include %}) finds templates the same way, so one template can gather the others a task applies.
  - Use it with C(query) (a list), in the same tasks that would hold the objects otherwise (C(no_log) for Secrets).
options:
  _terms:
    description: Template names or paths.
    type: list
    elements: str
    required: true
seealso:
  - module: aiplatform.obot.k8s_apply
"""

EXAMPLES = r"""
- name: Apply what the role's templates render
  aiplatform.obot.k8s_apply:
    definition: "{{ query('aiplatform.obot.manifests', 'apply_objects.yml.j2') }}"
"""

RETURN = r"""
_raw:
  description: The objects, in the order the templates render them.
  type: list
  elements: dict
"""

import os

import yaml

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase
from ansible.template import trust_as_template

# libyaml when available: the documents are plain data (no tags, no templates).
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        objects = []
        for term in terms:
            path = self.find_file_in_search_path(variables, "templates", term)
            if not path:
                raise AnsibleError("manifests: the template %s could not be found" % term)
            # {% include %} searches the template's directory, then each search path and its templates/.
            searchpath = [os.path.dirname(path)]
            for base in variables.get("ansible_search_path", []):
                searchpath.extend((os.path.join(base, "templates"), base))
            templar = self._templar.copy_with_new_env(available_variables=variables, searchpath=searchpath)
            text = templar.template(trust_as_template(self._loader.get_text_file_contents(path))) or ""  # None: rendered empty
            objects.extend(document for document in yaml.load_all(text.encode("utf-8"), Loader=SafeLoader) if document)
        return objects
