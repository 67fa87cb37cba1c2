"""Builds lrmsuite's extension modules with the project's CMake, in build/ (or $LRM_BUILD_DIR),
and puts them in the package; pyproject.toml holds the metadata."""
import glob
import os
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
MODULES = {"lrmsuite._core": "lrmsuite_core", "lrmsuite._torch": "lrmsuite_torch"}


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = BUILD
        if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
            subprocess.run(["cmake", "-S", ROOT, "-B", build, "-G", "Ninja",
                            "-DCMAKE_BUILD_TYPE=Release", "-DLRM_WITH_PYTHON=ON"], check=True)
        target = MODULES[ext.name]
        if ext.name.endswith("_torch") and not _with_torch(build):
            return  # a build without LibTorch: the package works without models
        subprocess.run(["cmake", "--build", build, "--target", target], check=True)
        name = ext.name.split(".")[-1]
        built = glob.glob(os.path.join(build, "python", "lrmsuite", name + ".*.so"))
        dest = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy(built[0], dest)


def _with_torch(build):
    with open(os.path.join(build, "CMakeCache.txt")) as cache:
        return "LRM_WITH_TORCH:BOOL=OFF" not in cache.read()


# setuptools' own build files go under the CMake build folder, out of the source tree.
BUILD = os.environ.get("LRM_BUILD_DIR", os.path.join(ROOT, "build"))
os.makedirs(os.path.join(BUILD, "setuptools"), exist_ok=True)
setup(ext_modules=[Extension(name, sources=[]) for name in MODULES],
      cmdclass={"build_ext": CMakeBuild},
      options={"build": {"build_base": os.path.join(BUILD, "setuptools")},
               "egg_info": {"egg_base": os.path.join(BUILD, "setuptools")}})
