/* placeholder: replaced by the commit walker's tests */
int main(void) { return 77; }
