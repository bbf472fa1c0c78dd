from tests.admin.conftest import add_member, page, shop_pk


def test_pages_render(stack):
    add_member(stack, shop_pk(stack), 101, "ada@example.com", first_name="Ada", points_balance=5)
    for path in ("/", "/program", "/members", "/members/101", "/members/999"):
        r = page(stack, path)
        assert r.status_code == 200, (path, r.get_data(as_text=True)[:2000])
