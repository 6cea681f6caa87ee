#include "arena.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

START_TEST(alloc_aligned_and_distinct)
{
    roster_arena a;
    roster_arena_init(&a, 64, 0);
    char *prev = NULL;
    for (int i = 1; i < 2000; i++) {
        char *p = roster_arena_alloc(&a, (size_t)(i % 97) + 1);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % 16, 0);
        memset(p, i & 0xff, (size_t)(i % 97) + 1);
        ck_assert_ptr_ne(p, prev);
        prev = p;
    }
    char *s = roster_arena_strndup(&a, "hello world", 5);
    ck_assert_str_eq(s, "hello");
    roster_arena_reset(&a);
    ck_assert_ptr_nonnull(roster_arena_alloc(&a, 100000));
    roster_arena_free(&a);
    roster_arena_free(NULL);
}
END_TEST

START_TEST(limit_refuses_growth)
{
    roster_arena a;
    roster_arena_init(&a, 1024, 4096);
    ck_assert_ptr_nonnull(roster_arena_alloc(&a, 1000));
    ck_assert_ptr_null(roster_arena_alloc(&a, 8192));
    ck_assert_ptr_null(roster_arena_alloc(&a, SIZE_MAX));
    ck_assert_ptr_nonnull(roster_arena_alloc(&a, 100));
    roster_arena_free(&a);
}
END_TEST

START_TEST(protobuf_allocator_uses_arena)
{
    roster_arena a;
    roster_arena_init(&a, 0, 0);
    ProtobufCAllocator pa;
    roster_arena_protobuf_allocator(&pa, &a);
    void *p = pa.alloc(pa.allocator_data, 40);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_gt(a.used, 0);
    pa.free(pa.allocator_data, p);
    roster_arena_free(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, alloc_aligned_and_distinct);
    tcase_add_test(tc, limit_refuses_growth);
    tcase_add_test(tc, protobuf_allocator_uses_arena);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
