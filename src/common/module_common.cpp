// placeholder so the library is never empty
namespace tk {
[[maybe_unused]] static int common_placeholder = 0;
}
