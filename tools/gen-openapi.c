/* Merges the OpenAPI fragments of docs/openapi/ into one OpenAPI 3.1 document at build time.
 *
 * DESIGN: eight people add routes to the daemon at once, so the description is one base file
 * (info, servers, security schemes, shared components) plus one fragment per area holding its
 * `paths`, `components` and `tags`. A fragment may only add: a path+method, a component or a tag
 * that is already there is an error (exit 1, the file and key named), so two areas never
 * silently overwrite each other. The merged document is written as JSON (-o) and as a C file
 * embedding its bytes (-c NAME FILE) that the daemon serves at /api/v1/openapi.json.
 *
 * Usage: gen-openapi [-o merged.json] [-c symbol out.c] base.json [fragment.json ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* The only top-level keys a fragment may carry. */
static const char *const fragment_keys[] = {"paths", "components", "tags", NULL};

static int is_fragment_key(const char *key)
{
    for (const char *const *k = fragment_keys; *k; k++)
        if (strcmp(*k, key) == 0)
            return 1;
    return 0;
}

static json_t *load(const char *path)
{
    json_error_t err;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        fprintf(stderr, "gen-openapi: %s:%d: %s\n", path, err.line, err.text);
    else if (!json_is_object(doc)) {
        fprintf(stderr, "gen-openapi: %s: not a JSON object\n", path);
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

/* The object at key of parent, created empty when absent; NULL (reported) when not an object. */
static json_t *child_object(json_t *parent, const char *key, const char *file)
{
    json_t *o = json_object_get(parent, key);
    if (!o) {
        o = json_object();
        if (!o || json_object_set_new(parent, key, o))
            return NULL;
    }
    if (!json_is_object(o)) {
        fprintf(stderr, "gen-openapi: %s: %s must be an object\n", file, key);
        return NULL;
    }
    return o;
}

/* Adds each member of from to into; a key already there is an error naming what. */
static int add_members(json_t *into, json_t *from, const char *file, const char *what)
{
    const char *key;
    json_t *v;
    if (!json_is_object(from)) {
        fprintf(stderr, "gen-openapi: %s: %s must be an object\n", file, what);
        return -1;
    }
    json_object_foreach(from, key, v)
    {
        if (json_object_get(into, key)) {
            fprintf(stderr, "gen-openapi: %s: %s \"%s\" is defined twice\n", file, what, key);
            return -1;
        }
        if (json_object_set(into, key, v))
            return -1;
    }
    return 0;
}

/* Merges a two-level object of a fragment (paths: path -> method -> operation; components:
 * section -> name -> object) into doc[key]: the first level may meet its twin (two areas with
 * methods on one path), the second may not. what_fmt names a second-level entry in errors
 * ("operation of %s"). */
static int merge_nested(json_t *doc, const char *key, json_t *from, const char *file,
                        const char *what_fmt)
{
    json_t *all = child_object(doc, key, file), *inner;
    const char *name;
    char what[600];
    if (!all || !json_is_object(from)) {
        fprintf(stderr, "gen-openapi: %s: %s must be an object\n", file, key);
        return -1;
    }
    json_object_foreach(from, name, inner)
    {
        json_t *have = child_object(all, name, file);
        snprintf(what, sizeof what, what_fmt, name);
        if (!have || add_members(have, inner, file, what))
            return -1;
    }
    return 0;
}

static int merge_tags(json_t *doc, json_t *tags, const char *file)
{
    json_t *all = json_object_get(doc, "tags"), *tag, *seen;
    size_t i, j;
    if (!json_is_array(tags)) {
        fprintf(stderr, "gen-openapi: %s: tags must be an array\n", file);
        return -1;
    }
    if (!all && json_object_set_new(doc, "tags", all = json_array()))
        return -1;
    json_array_foreach(tags, i, tag)
    {
        const char *name = json_string_value(json_object_get(tag, "name"));
        if (!name) {
            fprintf(stderr, "gen-openapi: %s: tag %zu has no name\n", file, i);
            return -1;
        }
        json_array_foreach(all, j, seen)
        {
            if (strcmp(name, json_string_value(json_object_get(seen, "name"))) == 0) {
                fprintf(stderr, "gen-openapi: %s: tag \"%s\" is defined twice\n", file, name);
                return -1;
            }
        }
        json_array_append(all, tag);
    }
    return 0;
}

static int merge_fragment(json_t *doc, const char *file)
{
    json_t *frag = load(file), *v;
    const char *key;
    int rc = frag ? 0 : -1;
    if (!frag)
        return -1;
    json_object_foreach(frag, key, v)
    {
        if (!is_fragment_key(key)) {
            fprintf(stderr,
                    "gen-openapi: %s: a fragment holds only paths, components, tags (not %s)\n",
                    file, key);
            rc = -1;
        } else if (strcmp(key, "paths") == 0)
            rc = merge_nested(doc, "paths", v, file, "operation of %s");
        else if (strcmp(key, "components") == 0)
            rc = merge_nested(doc, "components", v, file, "components.%s entry");
        else
            rc = merge_tags(doc, v, file);
        if (rc)
            break;
    }
    json_decref(frag);
    return rc;
}

/* Writes text as a C array of bytes (no string-literal length limit) plus its length. */
static int write_c(const char *symbol, const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    size_t n = strlen(text);
    if (!f) {
        perror(path);
        return -1;
    }
    fprintf(f,
            "/* Generated by tools/gen-openapi from docs/openapi/: do not edit. */\n"
            "#include <stddef.h>\n"
            "const char %s[] = {",
            symbol);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%d,", i % 24 ? "" : "\n   ", (unsigned char)text[i]);
    fprintf(f, "\n    0};\nconst size_t %s_len = %zu;\n", symbol, n);
    return fclose(f) ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *out_json = NULL, *out_c = NULL, *symbol = NULL;
    int i = 1, rc = 1;
    json_t *doc;
    char *text = NULL;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out_json = argv[++i];
        else if (strcmp(argv[i], "-c") == 0 && i + 2 < argc) {
            symbol = argv[++i];
            out_c = argv[++i];
        } else
            break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: gen-openapi [-o merged.json] [-c symbol out.c] base.json "
                        "[fragment.json ...]\n");
        return 2;
    }
    if (!(doc = load(argv[i])))
        return 1;
    for (i++; i < argc; i++)
        if (merge_fragment(doc, argv[i]))
            goto done;
    text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text)
        goto done;
    if (out_json) {
        FILE *f = fopen(out_json, "w");
        /* The same bytes as the embedded copy, so the served and installed documents agree. */
        if (!f || fputs(text, f) == EOF || fclose(f)) {
            perror(out_json);
            goto done;
        }
    }
    if (out_c && write_c(symbol, out_c, text))
        goto done;
    rc = 0;
done:
    free(text);
    json_decref(doc);
    return rc;
}
