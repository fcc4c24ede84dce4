#pragma once
// Include first in a .cpp whose coroutines g++ 12 wrongly flags with -Wmismatched-new-delete (GCC
// bug 109224: the analysis does not match a coroutine frame's allocation through the promise's
// operator new with its operator delete). The pragma holds for the rest of the translation unit.

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
