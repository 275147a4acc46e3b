/* relapsewatch CLI: placeholder until implemented. */
int main(void)
{
    return 2;
}
