#!/usr/bin/env python3
#
# Copyright (C) the ngx_tiktok authors.
# Checks live answers of the API against openapi.yaml:
#
#   python3 t/lib/openapi_check.py openapi.yaml answers.jsonl
#
# answers.jsonl holds one answer a line: {"method", "path" (with its query
# string), "status", "headers" (names in lower case), "body" (text)}.
# For each, the operation is found by method and path (a literal segment
# wins over a {param}); the answer's status must be one it documents (a
# request that matches no operation: one of x-unrouted's); the body must
# be JSON that validates, with JSON Schema 2020-12 (python3-jsonschema),
# against the response's schema; each header the response marks required
# must be there, and every header it describes must match its schema.
# Prints "ok - ..." or "not ok - ... : why" a line; exits 1 if any failed,
# 2 if the document itself is not valid.

import json
import re
import sys
import warnings

import jsonschema
import yaml


def load_spec(path):
    with open(path, encoding='utf-8') as f:
        spec = yaml.safe_load(f)
    if not str(spec.get('openapi', '')).startswith('3.1'):
        raise ValueError('not an OpenAPI 3.1 document')
    return spec


class Checker:
    def __init__(self, spec):
        self.spec = spec
        # RefResolver: Debian 12's jsonschema (4.10) has nothing newer
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            self.resolver = jsonschema.RefResolver('', spec)
        self.routes = []
        for tpl, item in spec.get('paths', {}).items():
            names = re.findall(r'{([^}/]+)}', tpl)
            rx = '^' + re.sub(r'{[^}/]+}', '([^/]+)', tpl) + '$'
            self.routes.append((len(names), tpl, re.compile(rx), item))
        # literal paths first
        self.routes.sort(key=lambda r: r[0])

    def deref(self, obj):
        while isinstance(obj, dict) and '$ref' in obj:
            _, obj = self.resolver.resolve(obj['$ref'])
        return obj

    def validate(self, schema, value):
        v = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        errs = sorted(v.iter_errors(value), key=lambda e: list(e.path))
        return ['%s: %s' % ('/'.join(str(p) for p in e.absolute_path) or '.',
                            e.message) for e in errs]

    def operation(self, method, path):
        for _, tpl, rx, item in self.routes:
            if rx.match(path):
                op = item.get(method.lower())
                return tpl, op
        return None, None

    def response(self, op, status):
        if op is None:
            table = self.spec.get('x-unrouted', {})
        else:
            table = op.get('responses', {})
        for key in (str(status), '%dXX' % (status // 100), 'default'):
            if key in table:
                return self.deref(table[key])
        return None

    def check(self, a):
        path = a['path'].split('?', 1)[0]
        tpl, op = self.operation(a['method'], path)
        what = '%s %s %d' % (a['method'], tpl or path, a['status'])
        if op is not None and op.get('x-status') == 'planned':
            return what, ['the operation is planned, not built, yet it answered']
        resp = self.response(op, a['status'])
        if resp is None:
            return what, ['status %d is not documented here' % a['status']]

        errors = []
        headers = {k.lower(): v for k, v in a['headers'].items()}
        for name, h in (resp.get('headers') or {}).items():
            h = self.deref(h)
            value = headers.get(name.lower())
            if value is None:
                if h.get('required'):
                    errors.append('header %s is missing' % name)
                continue
            errors += ['header %s %s' % (name, e)
                       for e in self.validate(h.get('schema', {}), value)]

        content = resp.get('content')
        if not content:
            if a['body']:
                errors.append('a body where none is documented')
            return what, errors

        ctype = headers.get('content-type', '').split(';')[0].strip()
        media = content.get(ctype)
        if media is None:
            return what, errors + ['Content-Type "%s" is not one of %s'
                                   % (ctype, sorted(content))]
        if ctype != 'application/json':
            return what, errors
        try:
            body = json.loads(a['body'])
        except ValueError as e:
            return what, errors + ['the body is not JSON: %s' % e]
        return what, errors + self.validate(media.get('schema', {}), body)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write('usage: openapi_check.py openapi.yaml answers.jsonl\n')
        return 2
    try:
        spec = load_spec(sys.argv[1])
        # the document's schemas are JSON Schema 2020-12 themselves
        for name, s in spec['components']['schemas'].items():
            jsonschema.Draft202012Validator.check_schema(s)
        checker = Checker(spec)
    except Exception as e:
        print('not ok - %s is not a valid OpenAPI 3.1 document: %s'
              % (sys.argv[1], e))
        return 2

    failed = 0
    with open(sys.argv[2], encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            a = json.loads(line)
            what, errors = checker.check(a)
            if errors:
                failed += 1
                print('not ok - %s: %s' % (what, '; '.join(errors[:5])))
            else:
                print('ok - %s' % what)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
