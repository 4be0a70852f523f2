"""Records the wgf checkout this package is installed from (``wgf/_checkout.py``), so that the
package finds the checkout's release build (``.build/release/wgf``) wherever it is imported."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class RecordCheckout(build_py):
    def run(self):
        # A build directory left by an earlier install may hold modules removed since.
        shutil.rmtree(Path(self.build_lib) / "wgf", ignore_errors=True)
        super().run()
        checkout = Path(__file__).resolve().parent.parent
        target = Path(self.build_lib) / "wgf" / "_checkout.py"
        target.write_text(
            '"""Written at install time: the wgf checkout the package was installed from."""\n\n'
            f"CHECKOUT = {str(checkout)!r}\n",
            encoding="utf-8",
        )


setup(cmdclass={"build_py": RecordCheckout})
