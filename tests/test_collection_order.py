"""The suite's collection order (tests/conftest.py): heavy files first."""


def test_files_with_a_heavy_test_are_collected_before_the_others(request):
  items = request.session.items
  heavy = [item.get_closest_marker("heavy") is not None for item in items]
  heavy_files = {item.path for item, h in zip(items, heavy) if h}
  in_heavy_file = [item.path in heavy_files for item in items]
  # Once the first light file starts, no heavy file may follow.
  first_light = in_heavy_file.index(False) if False in in_heavy_file else len(
      items)
  late = sorted({str(item.path) for item in items[first_light:]
                 if item.path in heavy_files})
  assert not late, f"files with a heavy test collected after light ones: {late}"
