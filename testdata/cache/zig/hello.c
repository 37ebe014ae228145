#include <stdio.h>

int main(void) {
    printf("zig ok\n");
    return 0;
}
