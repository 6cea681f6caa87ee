#include "oracle_corpus.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int oracle_read_file(char **out, size_t *len, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = ROSTER_E_IO;
    if (!f)
        return ROSTER_E_IO;
    for (;;) {
        if (cap - n < 4096) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = ROSTER_E_NOMEM;
                goto fail;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return ROSTER_E_OK;
fail:
    free(buf);
    fclose(f);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void oracle_names_free(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int oracle_corpus_list(char ***out, size_t *n_out, const char *dir)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = ROSTER_E_NOMEM;
    if (!d)
        return ROSTER_E_IO;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 8 || strcmp(e->d_name + len - 8, ".graphql") != 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn)
                goto fail;
            names = nn;
            cap = ncap;
        }
        names[n] = strndup(e->d_name, len - 8);
        if (!names[n])
            goto fail;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_names);
    *out = names;
    *n_out = n;
    return ROSTER_E_OK;
fail:
    closedir(d);
    oracle_names_free(names, n);
    return rc;
}

static char *join(const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s", dir, name, suffix);
    return p;
}

int oracle_case_load(oracle_case *out, const char *dir, const char *name)
{
    oracle_case c = {0};
    char *gpath = join(dir, name, ".graphql");
    char *jpath = join(dir, name, ".json");
    int rc = ROSTER_E_NOMEM;
    if (!gpath || !jpath)
        goto fail;
    c.name = strdup(name);
    if (!c.name)
        goto fail;
    rc = oracle_read_file(&c.text, &c.len, gpath);
    if (rc != ROSTER_E_OK)
        goto fail;
    FILE *probe = fopen(jpath, "rb");
    if (probe) {
        fclose(probe);
        json_error_t jerr;
        json_t *side = json_load_file(jpath, JSON_ALLOW_NUL, &jerr);
        if (!json_is_object(side)) {
            fprintf(stderr, "%s: %s\n", jpath, side ? "not an object" : jerr.text);
            json_decref(side);
            rc = ROSTER_E_PARSE;
            goto fail;
        }
        json_t *vars = json_object_get(side, "variables");
        if (vars)
            c.variables = json_incref(vars);
        const char *op = json_string_value(json_object_get(side, "operationName"));
        if (op)
            c.operation_name = strdup(op);
        json_decref(side);
        if (op && !c.operation_name) {
            rc = ROSTER_E_NOMEM;
            goto fail;
        }
    }
    free(gpath);
    free(jpath);
    *out = c;
    return ROSTER_E_OK;
fail:
    free(gpath);
    free(jpath);
    oracle_case_free(&c);
    return rc;
}

void oracle_case_free(oracle_case *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->text);
    json_decref(c->variables);
    free(c->operation_name);
    memset(c, 0, sizeof *c);
}
