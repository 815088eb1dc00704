/*
 * hello.c: rtmem in one page. A context, a small expression tree built in an
 * arena, a few blocks from the heap, and the context's stats as JSON.
 *
 *   build-release/examples/hello
 */
#include <rtmem.h>

#include <stdio.h>
#include <string.h>

/* A syntax-tree node, the kind of object a parser makes by the thousand and
 * frees all at once. */
typedef struct node {
    char op;                 /* '+', '*', or 0 for a number */
    long value;
    struct node *left, *right;
} node;

static node *leaf(rtm_arena *a, long v)
{
    node *n = RTM_ARENA_NEW(a, node);
    if (n) *n = (node){0, v, NULL, NULL};
    return n;
}

static node *binary(rtm_arena *a, char op, node *l, node *r)
{
    node *n = RTM_ARENA_NEW(a, node);
    if (n) *n = (node){op, 0, l, r};
    return n;
}

static long eval(const node *n)
{
    if (n->op == 0) return n->value;
    long l = eval(n->left), r = eval(n->right);
    return n->op == '+' ? l + r : l * r;
}

int main(void)
{
    rtm_ctx *ctx = rtm_ctx_new(NULL);
    if (ctx == NULL) {
        fputs("hello: no context\n", stderr);
        return 1;
    }

    /* (1 + 2) * (3 + 4), in an arena. */
    rtm_arena *ast = rtm_arena_new(ctx);
    node *tree = binary(ast, '*', binary(ast, '+', leaf(ast, 1), leaf(ast, 2)),
                        binary(ast, '+', leaf(ast, 3), leaf(ast, 4)));
    if (tree == NULL) {
        fprintf(stderr, "hello: %s\n", rtm_status_str(rtm_ctx_error(ctx)));
        rtm_ctx_destroy(ctx);
        return 1;
    }
    printf("(1 + 2) * (3 + 4) = %ld\n", eval(tree));

    /* Heap blocks: sized free, no header per object. */
    const char *words[] = {"rtmem", "owns", "every", "byte"};
    char *copies[4];
    for (int i = 0; i < 4; i++) {
        size_t len = strlen(words[i]) + 1;
        copies[i] = rtm_alloc(ctx, len);
        if (copies[i] == NULL) { /* the reason is on the context */
            fprintf(stderr, "hello: %s\n", rtm_status_str(rtm_ctx_error(ctx)));
            rtm_ctx_destroy(ctx); /* frees the copies made so far, and the arena */
            return 1;
        }
        memcpy(copies[i], words[i], len);
    }
    printf("%s %s %s %s\n", copies[0], copies[1], copies[2], copies[3]);
    for (int i = 0; i < 4; i++) rtm_free(ctx, copies[i], strlen(words[i]) + 1);

    rtm_stats_write(ctx, stdout, RTM_STATS_JSON);
    rtm_arena_destroy(ast);
    rtm_ctx_destroy(ctx);
    return 0;
}
