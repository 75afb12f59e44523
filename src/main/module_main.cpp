// placeholder so the library is never empty
namespace tk { [[maybe_unused]] static int main_placeholder = 0; }
