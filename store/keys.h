/* Index key encodings (layouts in store_internal.h) and the list of index
 * entries a user record owns. */
#ifndef ROSTER_STORE_KEYS_H
#define ROSTER_STORE_KEYS_H

#include "record.h"
#include "store_internal.h"

/* Longest encoded key: a customData index's 't' scope value id, or a
 * sort index's scope value (0x01 + 255 + 0x00). */
#define KEY_MAX 320

/* The data of an entry of a duplicate-sorted index (idx_tenant and the
 * sort indexes): the user's id then its flags byte. */
#define KEY_DUP_DATA 17

/* Longest data of an index entry: a "values in data" sort index's value
 * (at most KEY_MAX bytes) then id and flags. */
#define KEY_DATA_MAX (KEY_MAX + KEY_DUP_DATA)

/* Room for a folded unique value (text_fold_key's cap): a key less its
 * 0x00 separator and scope. */
#define KEY_FOLD_CAP (KEY_MAX - 17)

/* Encoded sort value of model_user field `field` of v into buf (the
 * encoding its type takes); returns bytes. */
size_t key_sort_value(uint8_t *buf, int field, const user_view *v);

/* A uint64 as 8 big-endian bytes into buf (byte order is numeric order),
 * and back from p (8 bytes). */
void key_u64_put(uint8_t *buf, uint64_t v);
uint64_t key_u64_get(const uint8_t *p);

/* An int64 as 8 big-endian bytes with the sign bit flipped (byte order is
 * numeric order) into buf; returns 8. */
size_t key_i64(uint8_t *buf, int64_t v);

/* Scope of a user: its tenant id, or all zeros when it has none. */
void key_scope(roster_uuid *out, const user_view *v);

/* Encoded string value (0x01 bytes 0x00, or 0x02 for null). */
size_t key_str(uint8_t *buf, rec_str s);

/* The value unique index u (store_fields.uniq_field order) keeps for
 * user v, into buf (at least KEY_FOLD_CAP bytes): the field's bytes, or
 * their text_fold_key for a case-folded field (email). Returns bytes. */
size_t key_unique_value(uint8_t *buf, int u, const user_view *v);

typedef struct key_entry {
    MDB_dbi dbi;
    const char *db; /* static name, for verify */
    bool unique;    /* data is the id; key must not belong to another user */
    bool dup;       /* a duplicate-sorted database: the entry is key and data
                       (id then flags, or with vdata value, id, flags),
                       several users share a key */
    bool vdata;     /* a "values in data" sort index (store_internal.h):
                       key scope, data value id flags */
    int field;      /* unique entries: index in model_user.fields; else -1 */
    uint8_t *key;
    size_t klen;
    uint8_t data[KEY_DATA_MAX];
    size_t dlen;
} key_entry;

#define USER_ENTRIES (1 + UNIQ__COUNT + SORT__COUNT)

/* Fills out[USER_ENTRIES] with the index entries of user v, keys stored in
 * buf (USER_ENTRIES * KEY_MAX bytes): idx_tenant (key scope, data id and
 * flags), then a unique entry per unique field (store_fields.uniq_field
 * order), then one entry per sort index (key scope and value, data id and
 * flags; for a "values in data" index key scope, data value, id and
 * flags). Returns the count. */
size_t key_user_entries(key_entry *out, uint8_t *buf, const store *s, const user_view *v);

/* Deletes entry e in txn: a unique or single entry by its key, an entry of
 * a duplicate-sorted database by its key and its data up to the flags
 * byte (the id, or value and id; whatever flags byte follows, so an entry
 * a damaged store wrote with other flags goes too). MDB_NOTFOUND when there is no such entry, else
 * the MDB_* code. */
int key_entry_del(MDB_txn *txn, const key_entry *e);

/* The data of entry e as stored in txn (borrowed from the map until txn
 * ends), found as key_entry_del finds it: a duplicate-sorted entry by its
 * key and data up to the flags, whatever its flags. MDB_NOTFOUND when there is none. */
int key_entry_lookup(MDB_txn *txn, const key_entry *e, MDB_val *out);

/* tenant_name key of a tenant into buf; returns bytes. */
size_t key_tenant_name(uint8_t *buf, const tenant_view *t);

#endif
