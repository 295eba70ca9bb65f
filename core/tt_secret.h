/*
 * Copyright (C) the ngx_tiktok authors.
 * Secret files (tiktok_client_secret_file, the token key file).
 */

#ifndef _TT_SECRET_H_INCLUDED_
#define _TT_SECRET_H_INCLUDED_


#include "tt_buf.h"


/* reads a file of one secret (trailing newline dropped); TT_ERR + errno */
int tt_read_secret(const char *path, tt_arena_t *a, tt_str_t *out);


#endif /* _TT_SECRET_H_INCLUDED_ */
