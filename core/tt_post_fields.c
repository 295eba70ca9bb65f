/*
 * Copyright (C) the ngx_tiktok authors.
 * The post's fields, listed once: the tables below drive the API object
 * (tt_post_render), the store record's internal JSON and its decoder.
 */


#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "tt_post_int.h"


/*
 * A field's C type.  Enums are read and written as int (every enum of
 * tt_post.h is an int-sized type); booleans are bit fields, reached
 * through their table's accessor.
 */
typedef enum {
    TT_F_ID = 0,        /* char[TT_ID_SIZE] */
    TT_F_TEXT,          /* const char * and its size_t length at off2 */
    TT_F_STR,           /* const char *, NULL: null */
    TT_F_INT,           /* int64_t */
    TT_F_ENUM,          /* an enum: min..max in the record, names in API */
    TT_F_BOOLS,         /* nnames bit fields, by the table's accessors */
    TT_F_DOUBLE,        /* double, < 0 or not finite: unknown */
    TT_F_STRS,          /* const char ** and its size_t count at off2 */
    TT_F_LIST,          /* sub records, their size_t count at off2 */
    TT_F_OBJECT,        /* a struct inside this one */
    TT_F_GROUP,         /* API: an object of some of this struct's fields;
                         * record: those fields, flat */
    TT_F_CONST          /* API only: the string in api_value */
} tt_field_type_e;

/* how the API shows a value */
typedef enum {
    TT_SHOW_PLAIN = 0,
    TT_SHOW_NONE,       /* internal: the record only */
    TT_SHOW_NULL_EMPTY, /* an id, "" as null */
    TT_SHOW_NULL_NEG,   /* an integer, < 0 as null */
    TT_SHOW_TIME,       /* ms since the epoch as ISO 8601, < 0 as null */
    TT_SHOW_DECIMAL,    /* an integer as a decimal string, 0 as null */
    TT_SHOW_NAME,       /* an enum by its name, < 0 as null */
    TT_SHOW_NULL_GROUP  /* a group, null when all its strings are NULL */
} tt_field_show_e;

/* field flags */
#define TT_FF_OPTIONAL  0x01    /* a record may lack it: 0 then */


typedef struct tt_field_s  tt_field_t;

typedef struct {
    const tt_field_t   *fields;
    size_t              n;
    size_t              size;           /* of the struct, for lists */
    unsigned          (*get_bool)(const void *obj, unsigned i);
    void              (*set_bool)(void *obj, unsigned i, unsigned v);
} tt_fields_t;

struct tt_field_s {
    const char         *name;           /* the record's key: the C name */
    const char         *api;            /* the API's key */
    tt_field_type_e     type;
    tt_field_show_e     show;
    unsigned            flags;
    size_t              off;
    size_t              off2;           /* a length or a count */
    int                 min;            /* an enum's range */
    int                 max;
    const char *const  *names;          /* an enum's or the booleans' */
    size_t              nnames;
    const tt_fields_t  *sub;            /* list, object or group */
    int               (*shown)(const void *obj);  /* NULL: always */
    const char         *api_value;      /* TT_F_CONST */
};


/* the decoder's state: a field that is missing or wrong sets bad */
typedef struct {
    tt_arena_t         *arena;
    unsigned            bad:1;
    unsigned            nomem:1;
} tt_dec_t;


static unsigned tt_post_get_bool(const void *obj, unsigned i);
static void tt_post_set_bool(void *obj, unsigned i, unsigned v);
static unsigned tt_params_get_bool(const void *obj, unsigned i);
static void tt_params_put_bool(void *obj, unsigned i, unsigned v);
static int tt_params_image(const void *obj);
static void tt_fields_api(tt_jw_t *w, const tt_fields_t *t, const void *obj);
static void tt_field_api(tt_jw_t *w, const tt_fields_t *t,
    const tt_field_t *f, const void *obj);
static void tt_field_api_int(tt_jw_t *w, const tt_field_t *f, int64_t v);
static void tt_field_api_group(tt_jw_t *w, const tt_field_t *f,
    const void *obj);
static void tt_fields_rec(tt_jw_t *w, const tt_fields_t *t, const void *obj);
static void tt_field_rec(tt_jw_t *w, const tt_fields_t *t,
    const tt_field_t *f, const void *obj);
static void tt_field_value(tt_jw_t *w, const tt_field_t *f,
    const void *obj);
static void tt_field_bools(tt_jw_t *w, const tt_fields_t *t,
    const tt_field_t *f, const void *obj);
static void tt_field_list(tt_jw_t *w, const tt_field_t *f, const void *obj,
    void (*item)(tt_jw_t *w, const tt_fields_t *t, const void *obj));
static void tt_fields_dec(tt_dec_t *d, const tt_fields_t *t,
    const tt_json_t *o, void *obj);
static void tt_field_dec(tt_dec_t *d, const tt_fields_t *t,
    const tt_field_t *f, const tt_json_t *o, void *obj);
static void tt_field_dec_scalar(tt_dec_t *d, const tt_field_t *f,
    const tt_json_t *v, void *obj);
static void tt_field_dec_id(tt_dec_t *d, const tt_json_t *v, char *out);
static void tt_field_dec_bools(tt_dec_t *d, const tt_fields_t *t,
    const tt_field_t *f, const tt_json_t *o, void *obj);
static void tt_field_dec_strs(tt_dec_t *d, const tt_field_t *f,
    const tt_json_t *v, void *obj);
static void tt_field_dec_list(tt_dec_t *d, const tt_field_t *f,
    const tt_json_t *v, void *obj);


#define tt_at(obj, off, type)   ((type *) ((char *) (obj) + (off)))
#define tt_cat(obj, off, type)  ((const type *) ((const char *) (obj) + (off)))


/* the usual entries: record key = C member, API key given */
#define TT_FIELD(st, m, api, type, show)                                     \
    { #m, api, type, show, 0, offsetof(st, m), 0, 0, 0, NULL, 0, NULL,       \
      NULL, NULL }

#define TT_FIELD_ENUM(st, m, api, min, max, names)                           \
    { #m, api, TT_F_ENUM, TT_SHOW_NAME, 0, offsetof(st, m), 0, min, max,     \
      names, TT_ARRAY_SIZE(names), NULL, NULL, NULL }

#define TT_FIELD_PAIR(st, m, n, type)                                        \
    { #m, #m, type, TT_SHOW_PLAIN, 0, offsetof(st, m), offsetof(st, n), 0,   \
      0, NULL, 0, NULL, NULL, NULL }

#define TT_FIELD_SUB(st, m, n, type, sub)                                    \
    { #m, #m, type, TT_SHOW_PLAIN, 0, offsetof(st, m), n, 0, 0, NULL, 0,     \
      sub, NULL, NULL }

#define TT_FIELD_GROUP(api, show, sub)                                       \
    { "", api, TT_F_GROUP, show, 0, 0, 0, 0, 0, NULL, 0, sub, NULL, NULL }

#define TT_FIELD_BOOLS(names)                                                \
    { "", "", TT_F_BOOLS, TT_SHOW_PLAIN, 0, 0, 0, 0, 0, names,               \
      TT_ARRAY_SIZE(names), NULL, NULL, NULL }

#define TT_FIELDS(fields, st, get, set)                                      \
    { fields, TT_ARRAY_SIZE(fields), sizeof(st), get, set }


static const char *const  tt_post_bools[] = { "draft" };


/* tiktok's parameters, under "params" */
static const tt_field_t  tt_params_fields[] = {
    TT_FIELD_ENUM(tt_tiktok_params_t, privacy, "privacy_status",
                  TT_PRIVACY_PUBLIC, TT_PRIVACY_SELF, tt_privacy_names),
    TT_FIELD_ENUM(tt_tiktok_params_t, format, "format",
                  TT_FORMAT_VIDEO, TT_FORMAT_IMAGE, tt_format_names),
    TT_FIELD_ENUM(tt_tiktok_params_t, post_mode, "post_mode",
                  TT_MODE_DIRECT, TT_MODE_UPLOAD, tt_mode_names),

    /* a video has no photo cover: only a photo post shows its index */
    { "photo_cover_index", "photo_cover_index", TT_F_INT, TT_SHOW_PLAIN, 0,
      offsetof(tt_tiktok_params_t, photo_cover_index), 0, 0, 0, NULL, 0,
      NULL, tt_params_image, NULL },

    TT_FIELD(tt_tiktok_params_t, video_cover_timestamp_ms,
             "video_cover_timestamp_ms", TT_F_INT, TT_SHOW_NULL_NEG),
    TT_FIELD_BOOLS(tt_tiktok_bools)
};

static const tt_fields_t  tt_params_table =
    TT_FIELDS(tt_params_fields, tt_tiktok_params_t, tt_params_get_bool,
              tt_params_put_bool);


/* the API's "upload" object */
static const tt_field_t  tt_upload_fields[] = {
    TT_FIELD(tt_platform_t, bytes_sent, "bytes_sent", TT_F_INT,
             TT_SHOW_PLAIN),
    TT_FIELD(tt_platform_t, bytes_total, "bytes_total", TT_F_INT,
             TT_SHOW_PLAIN)
};

static const tt_fields_t  tt_upload_table =
    TT_FIELDS(tt_upload_fields, tt_platform_t, NULL, NULL);


/* the API's "error_details": what TikTok said, or null */
static const tt_field_t  tt_error_fields[] = {
    TT_FIELD(tt_platform_t, error_code, "platform_error_code", TT_F_STR,
             TT_SHOW_PLAIN),
    TT_FIELD(tt_platform_t, error_message, "platform_error_message",
             TT_F_STR, TT_SHOW_PLAIN),
    TT_FIELD(tt_platform_t, error_note, "note", TT_F_STR, TT_SHOW_PLAIN)
};

static const tt_fields_t  tt_error_table =
    TT_FIELDS(tt_error_fields, tt_platform_t, NULL, NULL);


static const tt_field_t  tt_platform_fields[] = {
    { "", "platform", TT_F_CONST, TT_SHOW_PLAIN, 0, 0, 0, 0, 0, NULL, 0,
      NULL, NULL, "tiktok" },
    TT_FIELD(tt_platform_t, profile_id, "profile_id", TT_F_ID,
             TT_SHOW_NULL_EMPTY),
    TT_FIELD_ENUM(tt_platform_t, status, "status", TT_PLAT_PENDING,
                  TT_PLAT_RETRY, tt_plat_status_names),
    TT_FIELD_SUB(tt_platform_t, params, 0, TT_F_OBJECT, &tt_params_table),
    TT_FIELD(tt_platform_t, attempts, "attempts", TT_F_INT, TT_SHOW_PLAIN),
    TT_FIELD(tt_platform_t, attempted_at, "attempted_at", TT_F_INT,
             TT_SHOW_TIME),
    TT_FIELD(tt_platform_t, next_attempt_at, "next_attempt_at", TT_F_INT,
             TT_SHOW_TIME),
    TT_FIELD_GROUP("upload", TT_SHOW_PLAIN, &tt_upload_table),
    TT_FIELD(tt_platform_t, publish_id, "publish_id", TT_F_STR,
             TT_SHOW_PLAIN),

    /* a string: 19-digit ids do not survive a JavaScript double */
    TT_FIELD(tt_platform_t, platform_id, "platform_id", TT_F_INT,
             TT_SHOW_DECIMAL),

    TT_FIELD(tt_platform_t, url, "url", TT_F_STR, TT_SHOW_PLAIN),
    TT_FIELD(tt_platform_t, error, "error", TT_F_STR, TT_SHOW_PLAIN),
    TT_FIELD_GROUP("error_details", TT_SHOW_NULL_GROUP, &tt_error_table),

    /* internal: what makes a publish resumable */
    { "stage", NULL, TT_F_ENUM, TT_SHOW_NONE, 0,
      offsetof(tt_platform_t, stage), 0, TT_STAGE_NONE, TT_STAGE_POLL, NULL,
      0, NULL, NULL, NULL },
    TT_FIELD(tt_platform_t, upload_url, NULL, TT_F_STR, TT_SHOW_NONE),
    TT_FIELD(tt_platform_t, upload_expires_at, NULL, TT_F_INT,
             TT_SHOW_NONE),
    TT_FIELD(tt_platform_t, chunk_size, NULL, TT_F_INT, TT_SHOW_NONE),
    TT_FIELD(tt_platform_t, chunk_count, NULL, TT_F_INT, TT_SHOW_NONE),

    /* records written before it have none */
    { "id_until", NULL, TT_F_INT, TT_SHOW_NONE, TT_FF_OPTIONAL,
      offsetof(tt_platform_t, id_until), 0, 0, 0, NULL, 0, NULL, NULL,
      NULL }
};

static const tt_fields_t  tt_platform_table =
    TT_FIELDS(tt_platform_fields, tt_platform_t, NULL, NULL);


static const tt_field_t  tt_media_fields[] = {
    TT_FIELD(tt_media_t, id, "id", TT_F_ID, TT_SHOW_PLAIN),
    TT_FIELD_ENUM(tt_media_t, status, "status", TT_MEDIA_PENDING,
                  TT_MEDIA_FAILED, tt_media_status_names),
    TT_FIELD(tt_media_t, source_url, "source_url", TT_F_STR, TT_SHOW_PLAIN),
    TT_FIELD(tt_media_t, content_type, "content_type", TT_F_STR,
             TT_SHOW_PLAIN),
    TT_FIELD(tt_media_t, size, "size", TT_F_INT, TT_SHOW_NULL_NEG),
    TT_FIELD(tt_media_t, width, "width", TT_F_INT, TT_SHOW_NULL_NEG),
    TT_FIELD(tt_media_t, height, "height", TT_F_INT, TT_SHOW_NULL_NEG),
    TT_FIELD(tt_media_t, duration_ms, "duration_ms", TT_F_INT,
             TT_SHOW_NULL_NEG),
    TT_FIELD(tt_media_t, codec, "codec", TT_F_STR, TT_SHOW_PLAIN),
    TT_FIELD(tt_media_t, frame_rate, "frame_rate", TT_F_DOUBLE,
             TT_SHOW_PLAIN),
    TT_FIELD(tt_media_t, error_message, "error_message", TT_F_STR,
             TT_SHOW_PLAIN),
    TT_FIELD_PAIR(tt_media_t, warnings, nwarnings, TT_F_STRS),
    TT_FIELD(tt_media_t, spool_path, NULL, TT_F_STR, TT_SHOW_NONE)
};

static const tt_fields_t  tt_media_table =
    TT_FIELDS(tt_media_fields, tt_media_t, NULL, NULL);


static const tt_field_t  tt_post_fields[] = {
    TT_FIELD(tt_post_t, id, "id", TT_F_ID, TT_SHOW_PLAIN),
    TT_FIELD(tt_post_t, workspace_id, NULL, TT_F_ID, TT_SHOW_NONE),
    TT_FIELD(tt_post_t, profile_group_id, NULL, TT_F_ID, TT_SHOW_NONE),
    TT_FIELD_PAIR(tt_post_t, body, body_len, TT_F_TEXT),
    TT_FIELD_ENUM(tt_post_t, status, "status", TT_POST_DRAFT,
                  TT_POST_MEDIA_FAILED, tt_post_status_names),
    TT_FIELD_BOOLS(tt_post_bools),
    TT_FIELD(tt_post_t, scheduled_at, "scheduled_at", TT_F_INT,
             TT_SHOW_TIME),
    TT_FIELD(tt_post_t, created_at, "created_at", TT_F_INT, TT_SHOW_TIME),
    TT_FIELD(tt_post_t, updated_at, "updated_at", TT_F_INT, TT_SHOW_TIME),
    TT_FIELD(tt_post_t, queue_id, "queue_id", TT_F_ID, TT_SHOW_NULL_EMPTY),
    TT_FIELD_ENUM(tt_post_t, queue_priority, "queue_priority",
                  TT_PRIORITY_NONE, TT_PRIORITY_HIGH, tt_priority_names),
    TT_FIELD(tt_post_t, due_at, NULL, TT_F_INT, TT_SHOW_NONE),
    TT_FIELD_SUB(tt_post_t, media, offsetof(tt_post_t, nmedia), TT_F_LIST,
                 &tt_media_table),
    TT_FIELD_SUB(tt_post_t, platforms, offsetof(tt_post_t, nplatforms),
                 TT_F_LIST, &tt_platform_table)
};

static const tt_fields_t  tt_post_table =
    TT_FIELDS(tt_post_fields, tt_post_t, tt_post_get_bool, tt_post_set_bool);


static unsigned
tt_post_get_bool(const void *obj, unsigned i)
{
    return ((const tt_post_t *) obj)->draft;
}


static void
tt_post_set_bool(void *obj, unsigned i, unsigned v)
{
    ((tt_post_t *) obj)->draft = v;
}


static unsigned
tt_params_get_bool(const void *obj, unsigned i)
{
    return tt_params_bool(obj, i);
}


static void
tt_params_put_bool(void *obj, unsigned i, unsigned v)
{
    tt_params_set_bool(obj, i, v);
}


static int
tt_params_image(const void *obj)
{
    return ((const tt_tiktok_params_t *) obj)->format == TT_FORMAT_IMAGE;
}


/* the post object of api.md */
void
tt_post_render(tt_jw_t *w, const tt_post_t *p)
{
    tt_fields_api(w, &tt_post_table, p);
}


static void
tt_fields_api(tt_jw_t *w, const tt_fields_t *t, const void *obj)
{
    size_t  i;

    tt_jw_obj_open(w);

    for (i = 0; i < t->n; i++) {
        tt_field_api(w, t, &t->fields[i], obj);
    }

    tt_jw_obj_close(w);
}


static void
tt_field_api(tt_jw_t *w, const tt_fields_t *t, const tt_field_t *f,
    const void *obj)
{
    const char  *s;

    if (f->show == TT_SHOW_NONE || (f->shown != NULL && !f->shown(obj))) {
        return;
    }

    if (f->type == TT_F_BOOLS) {
        tt_field_bools(w, t, f, obj);
        return;
    }

    tt_jw_key(w, f->api);

    switch (f->type) {

    case TT_F_ID:
        s = tt_cat(obj, f->off, char);
        tt_jw_cstr(w, (s[0] || f->show != TT_SHOW_NULL_EMPTY) ? s : NULL);
        break;

    case TT_F_INT:
        tt_field_api_int(w, f, *tt_cat(obj, f->off, int64_t));
        break;

    case TT_F_ENUM:
        tt_field_api_int(w, f, *tt_cat(obj, f->off, int));
        break;

    case TT_F_DOUBLE:
        if (*tt_cat(obj, f->off, double) >= 0
            && isfinite(*tt_cat(obj, f->off, double)))
        {
            tt_jw_double(w, *tt_cat(obj, f->off, double));

        } else {
            tt_jw_null(w);
        }

        break;

    case TT_F_LIST:
        tt_field_list(w, f, obj, tt_fields_api);
        break;

    case TT_F_OBJECT:
        tt_fields_api(w, f->sub, tt_cat(obj, f->off, char));
        break;

    case TT_F_GROUP:
        tt_field_api_group(w, f, obj);
        break;

    case TT_F_CONST:
        tt_jw_cstr(w, f->api_value);
        break;

    default:
        /* TEXT, STR and STRS are written alike in the record */
        tt_field_value(w, f, obj);
    }
}


static void
tt_field_api_int(tt_jw_t *w, const tt_field_t *f, int64_t v)
{
    char  id[24];

    switch (f->show) {

    case TT_SHOW_NULL_NEG:
        if (v < 0) {
            tt_jw_null(w);

        } else {
            tt_jw_int(w, v);
        }

        break;

    case TT_SHOW_TIME:
        tt_jw_time(w, v);
        break;

    case TT_SHOW_DECIMAL:
        if (v != 0) {
            snprintf(id, sizeof(id), "%" PRId64, v);
            tt_jw_cstr(w, id);

        } else {
            tt_jw_null(w);
        }

        break;

    case TT_SHOW_NAME:
        /* < 0 is "none" (a queue priority); past the end, corrupt */
        if (v < 0) {
            tt_jw_null(w);

        } else {
            tt_jw_cstr(w, (uint64_t) v < f->nnames ? f->names[v]
                                                   : "unknown");
        }

        break;

    default:
        tt_jw_int(w, v);
    }
}


static void
tt_field_api_group(tt_jw_t *w, const tt_field_t *f, const void *obj)
{
    size_t             i;
    const tt_field_t  *g;

    if (f->show == TT_SHOW_NULL_GROUP) {
        for (i = 0; i < f->sub->n; i++) {
            g = &f->sub->fields[i];

            if (g->type == TT_F_STR && *tt_cat(obj, g->off, char *) != NULL)
            {
                break;
            }
        }

        if (i == f->sub->n) {
            tt_jw_null(w);
            return;
        }
    }

    tt_fields_api(w, f->sub, obj);
}


/*
 * The internal JSON of the record: every field under its C name, enums as
 * numbers, -1 as -1.  Only tt_post_fields_decode() reads it.
 */
void
tt_post_fields_encode(tt_jw_t *w, const tt_post_t *p)
{
    tt_fields_rec(w, &tt_post_table, p);
}


static void
tt_fields_rec(tt_jw_t *w, const tt_fields_t *t, const void *obj)
{
    size_t  i;

    tt_jw_obj_open(w);

    for (i = 0; i < t->n; i++) {
        tt_field_rec(w, t, &t->fields[i], obj);
    }

    tt_jw_obj_close(w);
}


static void
tt_field_rec(tt_jw_t *w, const tt_fields_t *t, const tt_field_t *f,
    const void *obj)
{
    size_t  i;

    switch (f->type) {

    case TT_F_CONST:
        return;

    case TT_F_BOOLS:
        tt_field_bools(w, t, f, obj);
        return;

    case TT_F_GROUP:
        for (i = 0; i < f->sub->n; i++) {
            tt_field_rec(w, f->sub, &f->sub->fields[i], obj);
        }

        return;

    default:
        break;
    }

    tt_jw_key(w, f->name);
    tt_field_value(w, f, obj);
}


/* a value written alike in the record and the API, or the record's */
static void
tt_field_value(tt_jw_t *w, const tt_field_t *f, const void *obj)
{
    size_t        i, n;
    double        d;
    const char   *s;
    const char  **strs;

    switch (f->type) {

    case TT_F_ID:
        tt_jw_cstr(w, tt_cat(obj, f->off, char));
        break;

    case TT_F_TEXT:
        s = *tt_cat(obj, f->off, char *);
        tt_jw_str(w, s ? s : "", s ? *tt_cat(obj, f->off2, size_t) : 0);
        break;

    case TT_F_STR:
        tt_jw_cstr(w, *tt_cat(obj, f->off, char *));
        break;

    case TT_F_INT:
        tt_jw_int(w, *tt_cat(obj, f->off, int64_t));
        break;

    case TT_F_ENUM:
        tt_jw_int(w, *tt_cat(obj, f->off, int));
        break;

    case TT_F_DOUBLE:
        /* yajl refuses NaN and infinities: they mean "unknown" anyway */
        d = *tt_cat(obj, f->off, double);

        if (isfinite(d)) {
            tt_jw_double(w, d);

        } else {
            tt_jw_null(w);
        }

        break;

    case TT_F_STRS:
        strs = *tt_cat(obj, f->off, char **);
        n = *tt_cat(obj, f->off2, size_t);

        tt_jw_arr_open(w);

        for (i = 0; i < n; i++) {
            tt_jw_cstr(w, strs[i]);
        }

        tt_jw_arr_close(w);
        break;

    case TT_F_LIST:
        tt_field_list(w, f, obj, tt_fields_rec);
        break;

    default: /* TT_F_OBJECT */
        tt_fields_rec(w, f->sub, tt_cat(obj, f->off, char));
    }
}


/* the booleans, each under its name, in the open object */
static void
tt_field_bools(tt_jw_t *w, const tt_fields_t *t, const tt_field_t *f,
    const void *obj)
{
    unsigned  b;

    for (b = 0; b < f->nnames; b++) {
        tt_jw_key(w, f->names[b]);
        tt_jw_bool(w, t->get_bool(obj, b));
    }
}


/* an array of sub records, each written by item */
static void
tt_field_list(tt_jw_t *w, const tt_field_t *f, const void *obj,
    void (*item)(tt_jw_t *w, const tt_fields_t *t, const void *obj))
{
    size_t       i, n;
    const char  *items;

    items = *tt_cat(obj, f->off, char *);
    n = *tt_cat(obj, f->off2, size_t);

    tt_jw_arr_open(w);

    for (i = 0; i < n; i++) {
        item(w, f->sub, items + i * f->sub->size);
    }

    tt_jw_arr_close(w);
}


/*
 * The post from the record's internal JSON: TT_OK, TT_INVALID when a
 * field is missing or of the wrong type, TT_NOMEM.  Strings point into
 * the tree, which is in the arena.
 */
int
tt_post_fields_decode(const tt_json_t *root, tt_arena_t *a, tt_post_t *p)
{
    tt_dec_t  d;

    d.arena = a;
    d.bad = 0;
    d.nomem = 0;

    memset(p, 0, sizeof(tt_post_t));

    if (root->type != TT_JSON_OBJECT) {
        return TT_INVALID;
    }

    tt_fields_dec(&d, &tt_post_table, root, p);

    if (d.nomem) {
        return TT_NOMEM;
    }

    return d.bad ? TT_INVALID : TT_OK;
}


static void
tt_fields_dec(tt_dec_t *d, const tt_fields_t *t, const tt_json_t *o,
    void *obj)
{
    size_t  i;

    if (o->type != TT_JSON_OBJECT) {
        d->bad = 1;
        return;
    }

    for (i = 0; i < t->n; i++) {
        tt_field_dec(d, t, &t->fields[i], o, obj);
    }
}


static void
tt_field_dec(tt_dec_t *d, const tt_fields_t *t, const tt_field_t *f,
    const tt_json_t *o, void *obj)
{
    size_t            i;
    const tt_json_t  *v;

    switch (f->type) {

    case TT_F_CONST:
        return;

    case TT_F_BOOLS:
        tt_field_dec_bools(d, t, f, o, obj);
        return;

    case TT_F_GROUP:
        for (i = 0; i < f->sub->n; i++) {
            tt_field_dec(d, f->sub, &f->sub->fields[i], o, obj);
        }

        return;

    default:
        break;
    }

    v = tt_json_get(o, f->name);

    if (v == NULL) {
        if (!(f->flags & TT_FF_OPTIONAL)) {
            d->bad = 1;
        }

        return;
    }

    switch (f->type) {

    case TT_F_STRS:
        tt_field_dec_strs(d, f, v, obj);
        break;

    case TT_F_LIST:
        tt_field_dec_list(d, f, v, obj);
        break;

    case TT_F_OBJECT:
        tt_fields_dec(d, f->sub, v, tt_at(obj, f->off, char));
        break;

    default:
        tt_field_dec_scalar(d, f, v, obj);
    }
}


static void
tt_field_dec_scalar(tt_dec_t *d, const tt_field_t *f, const tt_json_t *v,
    void *obj)
{
    int  is_int;

    is_int = (v->type == TT_JSON_NUMBER && v->is_int);

    switch (f->type) {

    case TT_F_ID:
        tt_field_dec_id(d, v, tt_at(obj, f->off, char));
        break;

    case TT_F_TEXT:
        if (v->type != TT_JSON_STRING) {
            d->bad = 1;
            break;
        }

        *tt_at(obj, f->off, const char *) = v->str;
        *tt_at(obj, f->off2, size_t) = v->len;
        break;

    case TT_F_STR:
        /* a string or null (NULL); the tree's own copy, in the arena */
        if (v->type == TT_JSON_STRING) {
            *tt_at(obj, f->off, const char *) = v->str;

        } else if (v->type != TT_JSON_NULL) {
            d->bad = 1;
        }

        break;

    case TT_F_INT:
        if (!is_int) {
            d->bad = 1;
            break;
        }

        *tt_at(obj, f->off, int64_t) = v->i;
        break;

    case TT_F_ENUM:
        if (!is_int || v->i < f->min || v->i > f->max) {
            *tt_at(obj, f->off, int) = f->min;
            d->bad = 1;
            break;
        }

        *tt_at(obj, f->off, int) = (int) v->i;
        break;

    default: /* TT_F_DOUBLE: null is unknown */
        if (v->type == TT_JSON_NUMBER) {
            *tt_at(obj, f->off, double) = is_int ? (double) v->i : v->d;

        } else {
            *tt_at(obj, f->off, double) = -1;
            d->bad = (v->type != TT_JSON_NULL);
        }
    }
}


static void
tt_field_dec_id(tt_dec_t *d, const tt_json_t *v, char *out)
{
    if (v->type != TT_JSON_STRING || v->len >= TT_ID_SIZE
        || strlen(v->str) != v->len)
    {
        d->bad = 1;
        return;
    }

    memcpy(out, v->str, v->len);
}


static void
tt_field_dec_bools(tt_dec_t *d, const tt_fields_t *t, const tt_field_t *f,
    const tt_json_t *o, void *obj)
{
    unsigned          b;
    const tt_json_t  *v;

    for (b = 0; b < f->nnames; b++) {
        v = tt_json_get(o, f->names[b]);

        if (v == NULL
            || (v->type != TT_JSON_TRUE && v->type != TT_JSON_FALSE))
        {
            d->bad = 1;
            continue;
        }

        t->set_bool(obj, b, v->type == TT_JSON_TRUE);
    }
}


static void
tt_field_dec_strs(tt_dec_t *d, const tt_field_t *f, const tt_json_t *v,
    void *obj)
{
    size_t        i;
    const char  **s;

    if (v->type != TT_JSON_ARRAY) {
        d->bad = 1;
        return;
    }

    if (v->n == 0) {
        return;
    }

    s = tt_arena_alloc(d->arena, v->n * sizeof(const char *));
    if (s == NULL) {
        d->nomem = 1;
        return;
    }

    for (i = 0; i < v->n; i++) {
        if (v->items[i]->type != TT_JSON_STRING) {
            d->bad = 1;
            return;
        }

        s[i] = v->items[i]->str;
    }

    *tt_at(obj, f->off, const char **) = s;
    *tt_at(obj, f->off2, size_t) = v->n;
}


static void
tt_field_dec_list(tt_dec_t *d, const tt_field_t *f, const tt_json_t *v,
    void *obj)
{
    size_t  i;
    char   *items;

    if (v->type != TT_JSON_ARRAY) {
        d->bad = 1;
        return;
    }

    if (v->n == 0) {
        return;
    }

    items = tt_arena_calloc(d->arena, v->n * f->sub->size);
    if (items == NULL) {
        d->nomem = 1;
        return;
    }

    for (i = 0; i < v->n; i++) {
        tt_fields_dec(d, f->sub, v->items[i], items + i * f->sub->size);
    }

    *tt_at(obj, f->off, char *) = items;
    *tt_at(obj, f->off2, size_t) = v->n;
}
